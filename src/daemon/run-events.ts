/**
 * The engine's run events (contract 2 of round 2), until src/automation exports them: the type as agreed, and the
 * one place that connects the engine's `on('run')` to the daemon's event bus.
 * At merge: replace the type below with `export type { RunEvent } from '../automation/index.js'`.
 */
import type { AutomationEngine } from '../automation/index.js'

/** What every run event carries: the automation, the run's id, and when (epoch ms). */
interface RunEventBase {
  readonly automation: string
  readonly run: number
  readonly at: number
}

/** One thing that happened in one automation run. */
export type RunEvent = RunEventBase &
  (
    | {
        readonly type: 'triggered'
        readonly via:
          { readonly kind: 'mqtt'; readonly topic: string; readonly payload: string } | { readonly kind: 'command' }
      }
    | {
        readonly type: 'step'
        readonly path: string
        readonly kind: string
        readonly phase: 'start' | 'end'
        readonly error?: string
      }
    | {
        readonly type: 'command'
        readonly device: string
        readonly command: unknown
        readonly ok: boolean
        readonly state?: unknown
        readonly error?: string
        readonly ms: number
      }
    | { readonly type: 'lock-lost'; readonly code: string; readonly step: string }
    | {
        readonly type: 'recovered'
        readonly action: 'resume' | 'restart' | 'abort' | 'replace'
        readonly with?: string
      }
    | { readonly type: 'running' }
    | {
        readonly type: 'ended'
        readonly outcome: 'completed' | 'stopped' | 'aborted' | 'failed'
        readonly error?: string
      }
  )

type RunSource = { on(event: 'run', listener: (event: RunEvent) => void): () => void }

/**
 * Subscribes `listener` to the engine's run events and returns the unsubscribe function; a no-op on an engine
 * that does not emit them yet (it throws a TypeError for an unknown event name).
 */
export function onRunEvents(engine: AutomationEngine, listener: (event: RunEvent) => void): () => void {
  try {
    return (engine as unknown as RunSource).on('run', listener)
  } catch (error) {
    if (error instanceof TypeError) return () => {}
    throw error
  }
}
