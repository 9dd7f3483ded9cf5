import { createWriteStream, openSync, type WriteStream } from 'node:fs'
import { createInterface } from 'node:readline'
import type { Command } from 'commander'
import { pino, type Logger } from 'pino'
import { action, CliError } from './errors.js'
import { colorSupport, type ColorMode } from './render/colors.js'
import { renderScreen } from './render/screen.js'
import type { TimelineEvent } from './simulation.js'

interface SimulateOptions {
  readonly config: string
  readonly broker?: string
  readonly record?: string
  readonly headless?: boolean
  readonly colors?: ColorMode
}

/** Letters for the automations' keys, in file order; q is kept for quitting. */
const KEYS = 'abcdefghijklmnoprstuvwxyz'

/** How many timeline lines the screen keeps under RECENT. */
const RECENT_LINES = 8

/** A typed command (`trigger party`, `party on`, `stop alarm`, `alarm off`, `quit`), or undefined. */
export function parseTypedCommand(
  line: string,
): { action: 'trigger' | 'stop'; automation: string } | { action: 'quit' } | undefined {
  const words = line.trim().split(/\s+/)
  if (words.length === 1 && /^(q|quit|exit)$/i.test(words[0]!)) return { action: 'quit' }
  if (words.length !== 2) return undefined
  const [a, b] = words as [string, string]
  if (/^(trigger|start|on)$/i.test(a)) return { action: 'trigger', automation: b }
  if (/^(stop|off)$/i.test(a)) return { action: 'stop', automation: b }
  if (/^on$/i.test(b)) return { action: 'trigger', automation: a }
  if (/^off$/i.test(b)) return { action: 'stop', automation: a }
  return undefined
}

/**
 * `genlock simulate --config <file>`: the configured automations on simulated bulbs, drawn live in the terminal
 * (or printed as a timeline with `--headless`), with keys or typed commands to fire triggers and stops.
 */
export function addSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('run the automations on simulated bulbs and draw them live; keys fire triggers and stops')
    .option('-c, --config <file>', 'the config file', 'config.yaml')
    .option('-b, --broker <url>', "use this MQTT broker (default: the config's, or an embedded one on a free port)")
    .option('--record <file>', 'write the timeline to <file> as JSON lines')
    .option(
      '--headless',
      'print the timeline instead of drawing; read commands (trigger party, stop alarm, quit) from stdin',
    )
    .option('--colors <mode>', 'truecolor | 256 | 16 | none (default: what the terminal says it has)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ genlock simulate --config config.example.yaml   # a, b, …: triggers; A, B, …: stops; q quits\n' +
        '  $ genlock simulate --headless --record run.jsonl   # then type: trigger party, stop party, quit',
    )
    .action(
      action('simulate', async (options: SimulateOptions) => {
        if (options.colors && !['truecolor', '256', '16', 'none'].includes(options.colors))
          throw new CliError(`--colors must be truecolor, 256, 16 or none, not '${options.colors}'`)
        const { logLevel } = program.opts<{ logLevel?: string }>()
        // Loaded on use: the daemon's dependencies stay out of every other command's start-up.
        const { formatEvent, Simulation } = await import('./simulation.js')
        const headless = options.headless === true || !process.stdout.isTTY || !process.stdin.isTTY
        // Logs would scribble over the drawing: they go to stderr, and only when asked for (or headless warnings).
        const logger: Logger = pino({ level: logLevel ?? (headless ? 'warn' : 'silent') }, pino.destination(2))
        let record: WriteStream | undefined
        if (options.record) {
          // Opened here, synchronously, so a bad path is one clear line now rather than a stream error later.
          let fd: number
          try {
            fd = openSync(options.record, 'w')
          } catch (error) {
            throw new CliError(`cannot write the timeline to ${options.record}: ${(error as Error).message}`)
          }
          record = createWriteStream('', { fd })
        }
        const recent: string[] = []
        let onEvent = (event: TimelineEvent) => {
          record?.write(`${JSON.stringify(event)}\n`)
          recent.push(formatEvent(event).trim())
          if (recent.length > RECENT_LINES) recent.shift()
        }
        if (headless) {
          const record = onEvent
          onEvent = (event) => {
            record(event)
            process.stdout.write(`${formatEvent(event)}\n`)
          }
        }
        const simulation = await Simulation.start(options.config, {
          broker: options.broker,
          logger,
          onEvent: (event) => onEvent(event),
        })
        const quit = async () => {
          await simulation.stop()
          await new Promise<void>((resolve) => (record ? record.end(resolve) : resolve()))
          process.exit(0)
        }
        process.once('SIGTERM', () => void quit())
        process.once('SIGINT', () => void quit())
        const fire = (name: string, what: 'trigger' | 'stop') =>
          simulation.fire(name, what).catch((error: Error) => {
            if (headless) process.stdout.write(`  ! ${error.message}\n`)
            else recent.push(`! ${error.message}`)
          })
        const names = simulation.automationNames
        if (headless) {
          createInterface({ input: process.stdin }).on('line', (line) => {
            if (!line.trim()) return
            const command = parseTypedCommand(line)
            if (!command)
              process.stdout.write(`  ! not a command: ${line.trim()} (try: trigger <name>, stop <name>, quit)\n`)
            else if (command.action === 'quit') void quit()
            else void fire(command.automation, command.action)
          })
          return
        }
        const mode = options.colors ?? colorSupport(process.env, true)
        const keys = new Map<string, { name: string; action: 'trigger' | 'stop' }>()
        names.slice(0, KEYS.length).forEach((name, i) => {
          keys.set(KEYS[i]!, { name, action: 'trigger' })
          keys.set(KEYS[i]!.toUpperCase(), { name, action: 'stop' })
        })
        let drawPending = false
        /** The command being typed after `:`, if one is. */
        let typing: string | undefined
        const draw = () => {
          drawPending = false
          const { bulbs, automations } = simulation.view()
          const frame = renderScreen(
            {
              title: options.config,
              broker: simulation.brokerUrl,
              elapsedMs: simulation.now(),
              bulbs,
              automations: automations.map((automation, i) =>
                i < KEYS.length ? { ...automation, triggerKey: KEYS[i]!, stopKey: KEYS[i]!.toUpperCase() } : automation,
              ),
              recent,
              ...(typing === undefined ? {} : { prompt: typing }),
            },
            mode,
          )
          // Home, each line cleared to its end, then everything below cleared: no flicker, no leftovers.
          process.stdout.write(`\x1b[H${frame.split('\n').join('\x1b[K\n')}\x1b[K\x1b[J`)
        }
        const redraw = () => {
          if (drawPending) return
          drawPending = true
          // Coalesce bursts of events into one frame every 50 ms at most.
          setTimeout(draw, 50)
        }
        const previous = onEvent
        onEvent = (event) => {
          previous(event)
          redraw()
        }
        const clock = setInterval(redraw, 1000)
        process.stdout.write('\x1b[?1049h\x1b[?25l')
        const restore = () => process.stdout.write('\x1b[?25h\x1b[?1049l')
        process.once('exit', restore)
        process.stdin.setRawMode(true)
        process.stdin.setEncoding('utf8')
        const leave = () => {
          clearInterval(clock)
          void quit()
        }
        process.stdin.on('data', (data: string) => {
          for (const key of data) {
            if (key === '\u0003') return leave()
            if (typing !== undefined) {
              if (key === '\r' || key === '\n') {
                const command = parseTypedCommand(typing)
                typing = undefined
                if (!command) recent.push('! not a command (try: trigger <name>, stop <name>, quit)')
                else if (command.action === 'quit') return leave()
                else void fire(command.automation, command.action)
              } else if (key === '\u001b') typing = undefined
              else if (key === '\u007f' || key === '\b') typing = typing.slice(0, -1)
              else if (key >= ' ') typing += key
              redraw()
              continue
            }
            if (key === ':') {
              typing = ''
              redraw()
            } else if (key === 'q') return leave()
            else {
              const binding = keys.get(key)
              if (binding) void fire(binding.name, binding.action)
            }
          }
        })
        draw()
      }),
    )
}
