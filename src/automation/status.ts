/**
 * Where an automation is:
 * - `idle`: no run;
 * - `waiting`: a run (or a queued trigger) waits for its devices' lock;
 * - `running`: a run holds the lock and is executing steps;
 * - `suspended`: a run lost the lock to a higher priority and waits to resume, restart or be replaced.
 */
export type AutomationState = 'idle' | 'waiting' | 'running' | 'suspended'

/** What the daemon publishes at `<base>/automation/<name>`. */
export interface AutomationStatus {
  readonly name: string
  readonly state: AutomationState
  /** Why the last run failed, if it did (cleared when a new run starts). */
  readonly lastError?: string
}
