import { watch, type FSWatcher } from 'node:fs'
import type { DaemonContext, Extension } from '../extension.js'

/**
 * Hot reload: watches devices/ and automations/ and reloads once they have been quiet for `debounceMs` (an editor
 * saving a file is several events; a `git checkout` is many).
 */
export class FileWatch implements Extension {
  readonly name = 'file-watch'
  private readonly watchers: FSWatcher[] = []
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly debounceMs = 150) {}

  start(context: DaemonContext): void {
    const { config, logger } = context
    for (const dir of [config.devicesDir, config.automationsDir]) {
      const watcher = watch(dir, () => {
        clearTimeout(this.timer)
        this.timer = setTimeout(() => {
          logger.info({ dir }, 'files changed; reloading')
          context.reload().catch((error: Error) => logger.error({ err: error.message }, 'reload failed'))
        }, this.debounceMs)
      })
      watcher.on('error', (error) => logger.error({ dir, err: error.message }, 'cannot watch folder'))
      this.watchers.push(watcher)
    }
    context.events.on(this, 'stopping', () => this.stop())
  }

  stop(): void {
    clearTimeout(this.timer)
    for (const watcher of this.watchers.splice(0)) watcher.close()
  }
}
