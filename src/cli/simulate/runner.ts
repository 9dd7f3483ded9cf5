import type { VirtualClock } from '../../automation/index.js'
import type { SimCommand } from './input.js'
import type { Timeline } from './timeline.js'

/**
 * Runs simulate commands one after the other, each only once what the one before set off has happened (the
 * trigger arrived, the run took its lock, the bulb answered): typed quickly, piped or scripted, they give the
 * timeline they would give typed slowly. `advance` moves the virtual clock, running what falls due in order.
 */
export class CommandRunner {
  private queue: Promise<void> = Promise.resolve()
  private warnedBusy = false

  constructor(
    private readonly timeline: Timeline,
    private readonly clock: VirtualClock,
    /** Told what went wrong with a command (an unknown name, a bulb that refused); the next one still runs. */
    private readonly problem: (message: string) => void,
  ) {}

  /**
   * Runs `command` after every command before it; resolves once what it set off has happened. A problem (a line
   * that is no command) is reported in its turn, so it shows where it was typed.
   */
  run(command: SimCommand | { readonly problem: string }): Promise<void> {
    const next = this.queue.then(() => this.execute(command))
    this.queue = next
    return next
  }

  /** Resolves once what is going on has happened (what the start set off, say), after every command before. */
  idle(): Promise<void> {
    const next = this.queue.then(() => this.clock.advance(0, this.settle))
    this.queue = next.catch(() => undefined)
    return next
  }

  private async execute(command: SimCommand | { readonly problem: string }): Promise<void> {
    if ('problem' in command) return this.problem(command.problem)
    try {
      switch (command.action) {
        case 'trigger':
        case 'stop':
          await this.timeline.fire(command.automation, command.action)
          break
        case 'publish':
          await this.timeline.publish(command.topic, command.payload)
          break
        case 'set':
          this.timeline.set(command.device, command.change, command.text)
          break
        case 'advance':
          this.timeline.advancing(command.ms, command.text)
          await this.clock.advance(command.ms, this.settle)
          return
        case 'quit':
          break
      }
      await this.clock.advance(0, this.settle)
    } catch (error) {
      this.problem((error as Error).message)
    }
  }

  private readonly settle = async (): Promise<void> => {
    if ((await this.timeline.settle()) || this.warnedBusy) return
    this.warnedBusy = true
    this.problem('the automations never stopped to wait (a repeat without a wait?): going on without waiting for them')
  }
}
