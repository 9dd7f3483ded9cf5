import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises'
import { basename, dirname } from 'node:path'

/** The slice of a pino logger a state file reports to. */
export interface StoreLogger {
  warn(fields: object, message?: string): void
}

export interface StateFileOptions<T> {
  /** Absolute path of the file, inside the data dir (`data_dir` in config.yaml). */
  readonly path: string
  /**
   * Largest file accepted, in bytes. Default 1 MiB: state files hold small records (runs to resume, the last
   * schedule fire), so a file past this is a bug or a runaway writer, and loading it must not exhaust a Pi's RAM.
   */
  readonly maxBytes?: number | undefined
  /** Checks what was read; throw (any error, its message is logged) when it is not a T. Default: accept any JSON. */
  readonly validate?: ((value: unknown) => T) | undefined
  readonly logger?: StoreLogger | undefined
  /**
   * Default true: each write is fsynced (the file, then its folder), so after a power cut the file holds the last
   * value written. False keeps the atomic replace but skips both fsyncs: after a power cut the file may hold an
   * older value, or be empty and set aside at the next read. For what is only diagnostics (traces): two disk
   * flushes per write cost more CPU than the rest of a run and wear a Pi's SD card.
   */
  readonly durable?: boolean | undefined
}

/** A state file operation that cannot be done: a value over the size limit, or the disk refusing the write. */
export class StateFileError extends Error {
  override readonly name = 'StateFileError'
}

const DEFAULT_MAX_BYTES = 1024 * 1024

/**
 * One JSON state file that survives a crash or power cut at any instant: a write goes to `<file>.tmp`, is fsynced,
 * then renamed over the file (and the folder fsynced), so a reader sees the old value or the new one, never half.
 * A file that cannot be parsed (or fails `validate`, or is over `maxBytes`) is moved aside to
 * `<file>.corrupt-<time>` and logged, and reads as missing: it never stops the daemon.
 *
 * @example
 * const runs = new StateFile({ path: join(dataDir, 'runs.json'), validate: (v) => runsSchema.parse(v), logger })
 * const saved = await runs.read() // undefined the first time
 * await runs.write({ party: { step: 3 } })
 */
export class StateFile<T> {
  readonly path: string
  private readonly maxBytes: number
  private readonly validate: (value: unknown) => T
  private readonly logger: StoreLogger | undefined
  private readonly durable: boolean
  /** Writes run one at a time, in call order, so the last one called is the one left on disk. */
  private queue: Promise<unknown> = Promise.resolve()

  constructor(options: StateFileOptions<T>) {
    this.path = options.path
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES
    this.validate = options.validate ?? ((value) => value as T)
    this.logger = options.logger
    this.durable = options.durable ?? true
  }

  /** The stored value; undefined when there is none, or it was corrupt (then it has been moved aside). */
  read(): Promise<T | undefined> {
    return this.serially(async () => {
      let size: number
      try {
        size = (await stat(this.path)).size
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
        throw new StateFileError(`cannot read ${this.path}: ${(error as Error).message}`, { cause: error })
      }
      if (size > this.maxBytes) return this.setAside(`${size} bytes, over the limit of ${this.maxBytes}`)
      let value: unknown
      try {
        value = JSON.parse(await readFile(this.path, 'utf8'))
      } catch (error) {
        if (error instanceof SyntaxError) return this.setAside(`not JSON: ${error.message}`)
        throw new StateFileError(`cannot read ${this.path}: ${(error as Error).message}`, { cause: error })
      }
      try {
        return this.validate(value)
      } catch (error) {
        return this.setAside((error as Error).message)
      }
    })
  }

  /** Replaces the stored value atomically. Rejects (leaving the old value in place) when it is over `maxBytes`. */
  write(value: T): Promise<void> {
    const text = JSON.stringify(value)
    const bytes = Buffer.byteLength(text)
    if (bytes > this.maxBytes) {
      return Promise.reject(
        new StateFileError(`${this.path}: ${bytes} bytes is over the limit of ${this.maxBytes}; nothing written`),
      )
    }
    return this.serially(async () => {
      const folder = dirname(this.path)
      const temporary = `${this.path}.tmp`
      try {
        await mkdir(folder, { recursive: true })
        const file = await open(temporary, 'w', 0o600)
        try {
          await file.writeFile(text, 'utf8')
          // Without this the rename can reach the disk before the data does: after a power cut the file
          // would exist with the new name and no content.
          if (this.durable) await file.sync()
        } finally {
          await file.close()
        }
        await rename(temporary, this.path)
        if (this.durable) await syncFolder(folder)
      } catch (error) {
        await unlink(temporary).catch(() => undefined)
        throw new StateFileError(`cannot write ${this.path}: ${(error as Error).message}`, { cause: error })
      }
    })
  }

  /** Deletes the stored value (a missing file is fine). */
  remove(): Promise<void> {
    return this.serially(async () => {
      await unlink(this.path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error
      })
    })
  }

  private serially<R>(task: () => Promise<R>): Promise<R> {
    const result = this.queue.then(task)
    this.queue = result.catch(() => undefined)
    return result
  }

  private async setAside(why: string): Promise<undefined> {
    const aside = `${this.path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`
    try {
      await rename(this.path, aside)
    } catch (error) {
      // Left where it is, the next write replaces it: still never fatal.
      this.logger?.warn(
        { file: this.path, why, err: (error as Error).message },
        `state file ${basename(this.path)} is unreadable (${why}) and cannot be moved aside; starting without it`,
      )
      return undefined
    }
    this.logger?.warn(
      { file: this.path, movedTo: aside, why },
      `state file ${basename(this.path)} is unreadable (${why}); moved aside to ${aside}, starting without it`,
    )
    return undefined
  }
}

/** fsyncs a folder so a rename inside it is on disk. Not possible on every platform (Windows): skipped there. */
async function syncFolder(folder: string): Promise<void> {
  let handle
  try {
    handle = await open(folder, 'r')
    await handle.sync()
  } catch {
    // EISDIR/EPERM/EINVAL where folders cannot be opened or synced: the rename is still atomic, just not durable yet.
  } finally {
    await handle?.close()
  }
}
