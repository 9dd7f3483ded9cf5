import type { Logger } from 'pino'

/**
 * What genlock keeps between runs for `catch_up`: per schedule trigger (key: `<automation>|<schedule>`, e.g.
 * `wake_up|at 07:00`), the time up to which its occurrences are dealt with — fired, skipped by a condition, or
 * passed while genlock was watching. An occurrence after that time and before a restart was missed.
 */
export interface ScheduleRecord {
  readonly version: 1
  readonly handled: Readonly<Record<string, number>>
}

/**
 * Where the record is kept: `read` gives undefined when there is none. The data dir's StateFile (src/store)
 * fits as it is: `new StateFile({ path: join(dataDir, 'schedules.json'), validate: readScheduleRecord, logger })`.
 */
export interface ScheduleStore {
  read(): Promise<ScheduleRecord | undefined>
  write(record: ScheduleRecord): Promise<void>
}

/** The most schedules remembered (oldest forgotten first): about 60 bytes each, well inside a state file. */
const MAX_RECORDS = 1000

/** Checks that `value` is a ScheduleRecord (the StateFile `validate` option); throws saying why not. */
export function readScheduleRecord(value: unknown): ScheduleRecord {
  const record = value as Partial<ScheduleRecord> | null
  if (record === null || typeof record !== 'object' || record.version !== 1) {
    throw new Error('not a schedule record (expected { version: 1, handled: {...} })')
  }
  const handled = record.handled
  if (handled === null || typeof handled !== 'object' || Array.isArray(handled)) {
    throw new Error('handled: expected a map of schedule → epoch ms')
  }
  for (const [key, time] of Object.entries(handled)) {
    if (typeof time !== 'number' || !Number.isFinite(time)) throw new Error(`handled.${key}: expected epoch ms`)
  }
  return { version: 1, handled }
}

/**
 * The engine's view of the record: read once when the engine starts (`loaded`), updated as schedules fire, and
 * written back (one write at a time, coalesced) when a store is given. Without one it lasts as long as the
 * engine: catch-up then only covers a stop and start of the same engine.
 */
export class ScheduleMemory {
  private readonly handledAt = new Map<string, number>()
  private loading: Promise<void> | undefined
  private writeQueued = false

  constructor(
    private readonly store: ScheduleStore | undefined,
    private readonly logger: Logger,
  ) {}

  /** Reads the store (once; later calls give the same promise). Never rejects: a failed read is logged. */
  load(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const record = await this.store?.read()
        for (const [key, time] of Object.entries(record?.handled ?? {})) {
          if (!this.handledAt.has(key)) this.handledAt.set(key, time)
        }
      } catch (error) {
        this.logger.warn({ err: error }, `cannot read the schedule record; no catch-up this time: ${String(error)}`)
      }
    })()
    return this.loading
  }

  /** Up to when `key`'s occurrences are dealt with; undefined for a schedule never seen before. */
  handledUntil(key: string): number | undefined {
    return this.handledAt.get(key)
  }

  /** Records that `key`'s occurrences up to `time` are dealt with. */
  handled(key: string, time: number): void {
    if ((this.handledAt.get(key) ?? -Infinity) >= time) return
    this.handledAt.delete(key)
    this.handledAt.set(key, time)
    if (this.handledAt.size > MAX_RECORDS) this.handledAt.delete(this.handledAt.keys().next().value!)
    this.queueWrite()
  }

  private queueWrite(): void {
    if (!this.store || this.writeQueued) return
    this.writeQueued = true
    // After the read, so a write never drops what the file held; several schedules handled in one turn (every
    // catch-up check at a start) make one write.
    void this.load().then(() => {
      this.writeQueued = false
      const record: ScheduleRecord = { version: 1, handled: Object.fromEntries(this.handledAt) }
      this.store!.write(record).catch((error: unknown) => {
        this.logger.warn({ err: error }, `cannot write the schedule record: ${String(error)}`)
      })
    })
  }
}
