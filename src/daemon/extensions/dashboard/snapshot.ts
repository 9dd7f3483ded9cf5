import { dirname, relative } from 'node:path'
import type { AutomationState, AutomationStatus } from '../../../automation/index.js'
import { formatProblem, type ConfigProblem } from '../../../config/problems.js'
import { kelvinToRgb, toHex } from '../../../devices/color.js'
import type { BulbState } from '../../../devices/bulb.js'
import type { DaemonContext } from '../../extension.js'
import type { ReloadOutcome } from '../../reload.js'
import type { LockBoard, LockParty } from './lock-board.js'

/** A bulb as the page draws it. */
export interface BulbView {
  readonly id: string
  readonly name: string
  readonly adapter: string
  readonly on: boolean
  readonly brightness: number
  /** `#rrggbb` of its colour, or of its white (colour temperature); white when it reports neither. */
  readonly color: string
  readonly reachable: boolean
  readonly holder: LockParty | null
  readonly waiting: readonly LockParty[]
}

/** The automation states the engine knows, and `held back`: waiting or suspended while a person holds a bulb. */
export type AutomationView = {
  readonly name: string
  readonly priority: number
  readonly devices: readonly string[]
  readonly state: AutomationState | 'held back'
  readonly lastError: string | null
}

export interface ProblemView {
  readonly severity: 'error' | 'warning'
  /** `automations/party.yaml:3:7 steps.0: …`, relative to the config file's folder. */
  readonly text: string
}

export interface HealthView {
  /** `<base>/status` is online: every subscription acknowledged, or false while the broker is lost. */
  readonly online: boolean
  /** Epoch ms when the dashboard (so the daemon) started. */
  readonly since: number
  readonly baseTopic: string
  readonly locks: 'memory' | 'redis'
  readonly devices: number
  readonly reachable: number
  readonly automations: number
  readonly running: number
}

/** Everything on the page but the timeline: sent whole on every change (it is a few KB). */
export interface DashboardSnapshot {
  readonly bulbs: readonly BulbView[]
  readonly automations: readonly AutomationView[]
  readonly problems: readonly ProblemView[]
  readonly health: HealthView
}

/** What the snapshot is made of besides the daemon's context. */
export interface SnapshotSources {
  readonly context: DaemonContext
  readonly board: LockBoard
  readonly statuses: ReadonlyMap<string, AutomationStatus>
  readonly outcome: ReloadOutcome | undefined
  readonly online: boolean
  readonly since: number
}

export function snapshot(sources: SnapshotSources): DashboardSnapshot {
  const { context, board, statuses } = sources
  const bulbs = [...context.devices.values()].map((bulb): BulbView => {
    const holder = board.holder(bulb.id, context.holders.holderOf(bulb.id))
    return {
      id: bulb.id,
      name: bulb.name,
      adapter: bulb.adapter,
      on: bulb.state.on,
      brightness: bulb.state.brightness,
      color: swatchColor(bulb.state),
      reachable: bulb.state.reachable,
      holder,
      waiting: board.waiting(bulb.id),
    }
  })
  const heldByPerson = new Set(bulbs.filter((bulb) => bulb.holder?.name === 'manual').map((bulb) => bulb.id))
  const automations = context.automations.map((definition): AutomationView => {
    const status = statuses.get(definition.name)
    const state = status?.state ?? 'idle'
    const heldBack =
      (state === 'waiting' || state === 'suspended') && definition.devices.some((id) => heldByPerson.has(id))
    return {
      name: definition.name,
      priority: definition.priority,
      devices: definition.devices,
      state: heldBack ? 'held back' : state,
      lastError: status?.lastError ?? null,
    }
  })
  const base = dirname(context.config.file)
  const where = (problem: ConfigProblem) => formatProblem({ ...problem, file: relative(base, problem.file) })
  const problems: ProblemView[] = [
    ...(sources.outcome?.problems ?? []).map((problem) => ({ severity: 'error' as const, text: where(problem) })),
    ...(sources.outcome?.warnings ?? []).map((problem) => ({ severity: 'warning' as const, text: where(problem) })),
  ]
  return {
    bulbs,
    automations,
    problems,
    health: {
      online: sources.online,
      since: sources.since,
      baseTopic: context.config.mqtt.baseTopic,
      locks: context.config.locks.backend,
      devices: bulbs.length,
      reachable: bulbs.filter((bulb) => bulb.reachable).length,
      automations: automations.length,
      running: automations.filter((automation) => automation.state === 'running').length,
    },
  }
}

function swatchColor(state: BulbState): string {
  if (state.color) return toHex(state.color)
  if (state.colorTemp !== undefined) return toHex(kelvinToRgb(state.colorTemp))
  return '#ffffff'
}
