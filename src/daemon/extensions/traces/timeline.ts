import type { TriggerVia } from '../../../automation/index.js'
import type { BulbCommand, BulbState } from '../../../devices/bulb.js'
import { toHex } from '../../../devices/color.js'
import type { Holder, RunTrace, TraceEntry } from './trace.js'

/**
 * A step's path as people count: `steps.2` → `step 3`, `steps.0.repeat.steps.1` → `step 1 › repeat 2`
 * (list positions from 1, the word `steps` left out).
 */
export function stepName(path: string): string {
  const parts = path.split('.')
  const words: string[] = []
  for (const part of parts) {
    if (part === 'steps') continue
    const index = /^\d+$/.test(part) ? String(Number(part) + 1) : undefined
    if (index === undefined) words.push(`› ${part}`)
    else if (words.length === 0) words.push(`step ${index}`)
    else words.push(index)
  }
  return words.join(' ') || path
}

function holderText(holder: Holder): string {
  return `${holder.holder} (priority ${holder.priority})`
}

function viaText(via: TriggerVia): string {
  switch (via.kind) {
    case 'mqtt':
      return `mqtt ${via.topic} ${JSON.stringify(via.payload)}`
    case 'command':
      return 'the automation’s set command (ON)'
    case 'state':
      return `${via.device} went ${JSON.stringify(via.from)} → ${JSON.stringify(via.to)}`
    case 'schedule':
      return `${via.trigger} schedule due ${new Date(via.scheduled).toISOString()}${via.catchUp ? ' (caught up after a restart)' : ''}`
  }
}

function commandText(command: BulbCommand): string {
  return Object.entries(command)
    .map(([key, value]) => `${key} ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`)
    .join(', ')
}

/** The bulb's answer: `on 80 % #ff0000`, `off`, `on 40 % 2700 K`. */
function stateText(state: BulbState): string {
  if (!state.on) return 'off'
  const colour = state.color ? ` ${toHex(state.color)}` : state.colorTemp !== undefined ? ` ${state.colorTemp} K` : ''
  return `on ${Math.round(state.brightness)} %${colour}`
}

/** What one entry says, without its time; `state` tracks what came before (for "resumed at"). */
function entryText(entry: TraceEntry, state: { lostAt?: string; action?: string }): string | undefined {
  switch (entry.type) {
    case 'triggered':
      return `triggered by ${viaText(entry.via)}`
    case 'waiting':
      return `waits for ${entry.device}${entry.heldBy ? `, held by ${holderText(entry.heldBy)}` : ''}`
    case 'running': {
      const { lostAt, action } = state
      state.lostAt = undefined
      if (lostAt === undefined) return 'got the lock'
      if (action === 'resume') return `got the lock back: resumed at ${stepName(lostAt)}`
      if (action === 'restart') return 'got the lock back: restarted from the first step'
      if (action === 'replace') return 'got the lock back: replacement steps run'
      return 'got the lock back'
    }
    case 'step':
      if (entry.phase === 'start') return `${stepName(entry.path)} (${entry.kind})`
      return entry.error === undefined ? undefined : `${stepName(entry.path)} (${entry.kind}) failed: ${entry.error}`
    case 'command':
      return entry.ok
        ? `  → ${entry.device} ${commandText(entry.command)}: ok in ${entry.ms} ms` +
            (entry.state ? `, now ${stateText(entry.state)}` : '')
        : `  → ${entry.device} ${commandText(entry.command)}: FAILED after ${entry.ms} ms: ${entry.error}`
    case 'preempted':
      state.lostAt = entry.step
      if (entry.code === 'EXPIRED') return `lock ttl ran out at ${stepName(entry.step)}`
      return `preempted${entry.by ? ` by ${holderText(entry.by)}` : ''} at ${stepName(entry.step)}`
    case 'recovered':
      state.action = entry.action
      return `on_preempt: ${entry.action}${entry.with ? ` with ${entry.with}` : ''}`
    case 'ended':
      return `ended: ${entry.outcome}${entry.error ? ` (${entry.error})` : ''}`
    case 'omitted':
      return `… ${entry.count} entries left out …`
  }
}

/** `07:00:00.012` in `timeZone`. */
function clockText(at: number, timeZone: string | undefined): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    fractionalSecondDigits: 3,
    hourCycle: 'h23',
  }).format(new Date(at))
  return parts
}

function dateText(at: number, timeZone: string | undefined): string {
  return new Intl.DateTimeFormat('sv-SE', { timeZone, dateStyle: 'short', timeStyle: 'medium' }).format(new Date(at))
}

/**
 * One run as a readable timeline, one line per thing that happened:
 * `07:00:00.012 step 3 (set)` … `07:00:05.100 preempted by alarm (priority 200) at step 3` …
 */
export function formatTimeline(trace: RunTrace, timeZone?: string): string {
  const state: { lostAt?: string; action?: string } = {}
  const head =
    `${trace.automation} run ${trace.number}: ${trace.result}, started ${dateText(trace.started, timeZone)}` +
    (trace.preemptedBy ? `, preempted by ${holderText(trace.preemptedBy)}` : '') +
    (trace.error ? `\nerror: ${trace.error}` : '')
  const lines = [head]
  for (const entry of trace.entries) {
    const text = entryText(entry, state)
    if (text !== undefined) lines.push(`${clockText(entry.at, timeZone)} ${text}`)
  }
  return `${lines.join('\n')}\n`
}

/** One line per kept run, newest last: number, start, result, who preempted it. */
export function formatRunList(traces: readonly RunTrace[], timeZone?: string): string {
  return traces
    .map(
      (trace) =>
        `run ${trace.number}  ${dateText(trace.started, timeZone)}  ${trace.result}` +
        (trace.preemptedBy ? `  preempted by ${holderText(trace.preemptedBy)}` : ''),
    )
    .join('\n')
}
