import { createWriteStream, mkdtempSync, openSync, rmSync, type WriteStream } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Command } from 'commander'
import { createLogger, type Logger } from '../../config/logger.js'
import { formatProblem } from '../../config/problems.js'
import { action, CliError, EXIT, requireConfigFile } from '../errors.js'
import { colorSupport, type ColorMode } from '../render/colors.js'
import { renderScreen } from '../render/screen.js'
import { KEYS, parseTypedCommand } from './input.js'
import type { Timeline, TimelineEvent } from './timeline.js'

interface SimulateOptions {
  readonly config: string
  readonly broker?: string
  readonly record?: string
  readonly headless?: boolean
  readonly colors?: ColorMode
}

/** How many timeline lines the screen keeps under RECENT. */
const RECENT_LINES = 8

/**
 * `genlock simulate --config <file>`: the configured automations on simulated bulbs, drawn live in the terminal
 * (or printed as a timeline with `--headless`), with keys or typed commands to fire triggers and stops.
 */
export function addSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('run the automations on simulated bulbs and draw them live; keys fire triggers and stops')
    .option('-c, --config <file>', 'the config file', 'config.yaml')
    .option(
      '-b, --broker <url>',
      "use this MQTT broker (default: the config's, or an embedded one on a free port when the config embeds one)",
    )
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
        const { formatEvent, Timeline } = await import('./timeline.js')
        const headless = options.headless === true || !process.stdout.isTTY || !process.stdin.isTTY
        // Logs would scribble over the drawing: they go to stderr, and only when asked for (or headless warnings).
        const logger: Logger = createLogger({
          level: logLevel ?? (headless ? 'warn' : 'silent'),
          pretty: false,
          destination: process.stderr,
        })
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
        const timeline = new Timeline((event) => onEvent(event))
        const stop = await simulate(options.config, options.broker, logger, timeline)
        const quit = async () => {
          await stop()
          await new Promise<void>((resolve) => (record ? record.end(resolve) : resolve()))
          process.exit(0)
        }
        process.once('SIGTERM', () => void quit())
        process.once('SIGINT', () => void quit())
        const fire = (name: string, what: 'trigger' | 'stop') =>
          timeline.fire(name, what).catch((error: Error) => {
            if (headless) process.stdout.write(`  ! ${error.message}\n`)
            else recent.push(`! ${error.message}`)
          })
        const names = timeline.automationNames
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
          const { bulbs, automations } = timeline.view()
          const frame = renderScreen(
            {
              title: options.config,
              broker: timeline.brokerUrl,
              elapsedMs: timeline.now(),
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

/**
 * The daemon itself, with a twin of every bulb, no file watching, and `timeline` as one more extension: on an
 * embedded broker of its own when the config embeds one (so a running daemon is never disturbed), else as a guest
 * on the configured broker (or `--broker`), where triggers from outside reach it too. Resolves with what stops it.
 */
async function simulate(
  configFile: string,
  brokerUrl: string | undefined,
  logger: Logger,
  timeline: Timeline,
): Promise<() => Promise<void>> {
  requireConfigFile(configFile)
  // Loaded on use, like the daemon: other commands start without them.
  const { checkSetup } = await import('../../setup/index.js')
  const { Daemon } = await import('../../daemon/index.js')
  const { BrokerUnreachableError } = await import('../../mqtt/index.js')
  // A simulation runs every file or none: a file the daemon would leave out is a mistake to show, not to hide.
  const setup = checkSetup(configFile)
  const first = setup.problems[0]
  if (first || !setup.config) {
    const more = setup.problems.length > 1 ? ` (and ${setup.problems.length - 1} more: run genlock validate)` : ''
    throw new CliError(`${first ? formatProblem(first) : 'config could not be read'}${more}`)
  }
  const own = brokerUrl === undefined && setup.config.mqtt.embedded
  // Its own data dir: a simulation must never read or write the real daemon's state.
  const dataDir = mkdtempSync(join(tmpdir(), 'genlock-simulate-'))
  try {
    const daemon = await Daemon.start(configFile, {
      logger,
      bulbs: 'simulated',
      broker: own ? 'ephemeral' : brokerUrl === undefined ? 'config' : { url: brokerUrl },
      guest: !own,
      watch: false,
      extensions: [timeline],
      dataDir,
    })
    return async () => {
      await daemon.stop()
      rmSync(dataDir, { recursive: true, force: true })
    }
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true })
    if (error instanceof BrokerUnreachableError) throw new CliError(error.message, EXIT.unreachable)
    throw error
  }
}
