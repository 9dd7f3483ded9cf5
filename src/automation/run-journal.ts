import type { Logger } from 'pino'
import type { BulbState } from '../devices/bulb.js'

/**
 * What genlock keeps on disk while automations run, so a crash (`kill -9`, a power cut) can be cleaned up at the
 * next start: per automation with a run going, the state each of its bulbs was in before it took them (what
 * `restore` puts back; empty without `restore: true`). An automation whose runs ended and whose bulbs were put
 * back is not in it: after a clean stop the record is empty.
 */
export interface RunJournalRecord {
  readonly version: 1
  readonly automations: Readonly<Record<string, { readonly devices: Readonly<Record<string, BulbState>> }>>
}

/**
 * Where the record is kept: `read` gives undefined when there is none. The data dir's StateFile (src/store) fits:
 * `new StateFile({ path: join(dataDir, 'runs.json'), validate: readRunJournal, logger })`.
 */
export interface RunJournalStore {
  read(): Promise<RunJournalRecord | undefined>
  write(record: RunJournalRecord): Promise<void>
}

/** Checks that `value` is a RunJournalRecord (the StateFile `validate` option); throws saying why not. */
export function readRunJournal(value: unknown): RunJournalRecord {
  const record = value as Partial<RunJournalRecord> | null
  if (record === null || typeof record !== 'object' || record.version !== 1) {
    throw new Error('not a run journal (expected { version: 1, automations: {...} })')
  }
  const automations = record.automations
  if (automations === null || typeof automations !== 'object' || Array.isArray(automations)) {
    throw new Error('automations: expected a map of automation → { devices }')
  }
  for (const [name, entry] of Object.entries(automations)) {
    const devices = (entry as { devices?: unknown } | null)?.devices
    if (devices === null || typeof devices !== 'object' || Array.isArray(devices)) {
      throw new Error(`automations.${name}.devices: expected a map of device → state`)
    }
    for (const [id, state] of Object.entries(devices as Record<string, unknown>)) {
      const s = state as Partial<BulbState> | null
      if (s === null || typeof s !== 'object' || typeof s.on !== 'boolean' || typeof s.brightness !== 'number') {
        throw new Error(`automations.${name}.devices.${id}: expected a bulb state ({ on, brightness, ... })`)
      }
    }
  }
  return { version: 1, automations: automations as RunJournalRecord['automations'] }
}

/**
 * How long a start or end of a run without a restore snapshot may wait to be written, coalesced with what follows.
 * Such an entry only lets the next start clear the retained `running` of an automation removed while genlock was
 * down after a crash; two fsynced writes per run (every trigger) cost more than the rest of a short run, and wear
 * a Pi's SD card. A snapshot, and the end of a run that had one, are written at once.
 */
const UNSNAPSHOTTED_WRITE_DELAY_MS = 1000

/**
 * The engine's journal of running automations: read once as the engine starts (what a crashed daemon left), then
 * written (one write at a time, coalesced, always after that read) as automations start and end and take their
 * restore snapshots. Without a store it only keeps memory.
 */
export class RunJournal {
  private readonly running = new Map<string, Map<string, BulbState>>()
  private leftover: Promise<RunJournalRecord['automations']> | undefined
  private writing: Promise<void> = Promise.resolve()
  private writeQueued = false
  private delayedWrite: NodeJS.Timeout | undefined

  constructor(
    private readonly store: RunJournalStore | undefined,
    private readonly logger: Logger,
  ) {}

  /** What the last daemon left running (once; later calls give the same). Never rejects: a failed read is logged. */
  left(): Promise<RunJournalRecord['automations']> {
    this.leftover ??= (async () => {
      try {
        return (await this.store?.read())?.automations ?? {}
      } catch (error) {
        this.logger.warn({ err: (error as Error).message }, 'could not read the run journal')
        return {}
      }
    })()
    return this.leftover
  }

  /** `automation` has a run going (no snapshot yet). */
  started(automation: string): void {
    if (this.running.has(automation)) return
    this.running.set(automation, new Map())
    this.saveSoon()
  }

  /** `automation` took `device`, which was in `state` before (what `restore` puts back). */
  snapshot(automation: string, device: string, state: BulbState): void {
    const devices = this.running.get(automation)
    if (!devices) return
    devices.set(device, state)
    this.save()
  }

  /** `automation`'s runs are over and its bulbs put back (or left, as configured). */
  ended(automation: string): void {
    const devices = this.running.get(automation)
    if (!devices) return
    this.running.delete(automation)
    // A crash before a snapshot's end is on disk would put its bulbs back over whatever came after.
    if (devices.size > 0) this.save()
    else this.saveSoon()
  }

  /** What a crashed daemon left was dealt with: the record says only what runs now. */
  leftoversHandled(): void {
    this.save()
  }

  private saveSoon(): void {
    if (!this.store || this.writeQueued || this.delayedWrite) return
    this.delayedWrite = setTimeout(() => this.save(), UNSNAPSHOTTED_WRITE_DELAY_MS).unref()
  }

  private save(): void {
    clearTimeout(this.delayedWrite)
    this.delayedWrite = undefined
    if (!this.store || this.writeQueued) return
    this.writeQueued = true
    const store = this.store
    // After the start's read: what a crashed daemon left must be read before it is overwritten.
    this.writing = Promise.all([this.writing, this.left()]).then(async () => {
      this.writeQueued = false
      const automations: Record<string, { devices: Record<string, BulbState> }> = {}
      for (const [name, devices] of this.running) automations[name] = { devices: Object.fromEntries(devices) }
      try {
        await store.write({ version: 1, automations })
      } catch (error) {
        this.logger.warn({ err: (error as Error).message }, 'could not write the run journal')
      }
    })
  }

  /** Resolves once every write asked for so far is done. */
  async flushed(): Promise<void> {
    if (this.delayedWrite) this.save()
    while (this.writeQueued) await this.writing
    await this.writing
  }
}
