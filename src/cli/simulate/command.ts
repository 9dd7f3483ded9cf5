import { createWriteStream, mkdtempSync, openSync, rmSync, type WriteStream } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Command } from 'commander'
import type { VirtualClock } from '../../automation/index.js'
import { systemTimeZone } from '../../automation/local-time.js'
import { createLogger, type Logger } from '../../config/logger.js'
import { formatProblem } from '../../config/problems.js'
import type { GenlockConfig } from '../../config/config.js'
import { action, CliError, EXIT, requireConfigFile } from '../errors.js'
import { colorSupport, type ColorMode } from '../render/colors.js'
import { renderScreen } from '../render/screen.js'
import { COMMAND_HELP, parseCommand } from './input.js'
import { automationKeys } from './keys.js'
import { checkScriptNames, readScript, type Script, type ScriptCommand } from './script.js'
import type { CommandRunner } from './runner.js'
import type { Timeline, TimelineEvent } from './timeline.js'

interface SimulateOptions {
  readonly config: string
  readonly broker?: string
  readonly record?: string
  readonly headless?: boolean
  readonly colors?: ColorMode
  readonly speed?: string
  readonly start?: string
  readonly script?: string
}

/** How many timeline lines the screen keeps under RECENT (it shows the latest that fit). */
const RECENT_LINES = 50

/**
 * `genlock simulate --config <file>`: the configured automations on simulated bulbs, on a clock of its own (a start
 * time, a speed, `advance`), drawn live in the terminal, printed as a timeline with `--headless`, or run from a
 * script on a stopped clock with `--script` (the same timeline every run).
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
    .option('--headless', `print the timeline instead of drawing; read commands from stdin (${COMMAND_HELP})`)
    .option('--script <file>', 'run the commands in <file> on a stopped clock that only `advance` moves; then quit')
    .option('--speed <factor>', 'how much faster than real time the clock runs (60: a minute a second)', '1')
    .option('--start <time>', 'the time the simulation starts at, e.g. 2026-12-24T06:55 or 06:55 (default: now)')
    .option('--colors <mode>', 'truecolor | 256 | 16 | none (default: what the terminal says it has)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ genlock simulate --config config.example.yaml   # a, b, …: triggers; A, B, …: stops; q quits\n' +
        '  $ genlock simulate --config config.example.yaml --speed 60 --start 06:35   # a minute a second\n' +
        '  $ genlock simulate --config config.example.yaml --headless --record run.jsonl\n' +
        '        # then type: trigger party, advance 10s, stop party, quit\n' +
        '  $ genlock simulate --config config.example.yaml --script examples/wake-up-alarm.sim\n' +
        '        # the wake-up ramp, the alarm preempting it, the ramp resuming: the same timeline every run',
    )
    .action(
      action('simulate', async (options: SimulateOptions) => {
        if (options.colors && !['truecolor', '256', '16', 'none'].includes(options.colors))
          throw new CliError(`--colors must be truecolor, 256, 16 or none, not '${options.colors}'`)
        const speed = Number(options.speed ?? '1')
        if (!Number.isFinite(speed) || speed < 0)
          throw new CliError(`--speed must be a number, 0 or more (0 stops the clock), not '${options.speed}'`)
        if (options.script && speed !== 1)
          throw new CliError('--script runs on a stopped clock that its advance commands move: leave out --speed')
        // What can be checked without the daemon is checked first: a typo fails at once, however busy the machine.
        requireConfigFile(options.config)
        const script = options.script === undefined ? undefined : readScript(options.script)
        const record = openRecord(options.record)
        const { logLevel } = program.opts<{ logLevel?: string }>()
        // Loaded on use: the daemon's dependencies stay out of every other command's start-up.
        const { Timeline, timelineFormatter } = await import('./timeline.js')
        const { CommandRunner } = await import('./runner.js')
        const { VirtualClock } = await import('../../automation/index.js')
        const { parseStartTime } = await import('./start-time.js')
        const headless =
          options.headless === true || script !== undefined || !process.stdout.isTTY || !process.stdin.isTTY
        // Logs would scribble over the drawing: they go to stderr, and only when asked for (or headless warnings).
        const logger: Logger = createLogger({
          level: logLevel ?? (headless ? 'warn' : 'silent'),
          pretty: false,
          destination: process.stderr,
        })
        const config = await checkedConfig(options.config)
        const start = startTime(options, script, config.timezone ?? systemTimeZone(), parseStartTime)
        // Stopped while the daemon starts (seconds that would be minutes at 60×), then at --speed. A script's clock
        // stays stopped: only its `advance` commands move it, so every run is the same.
        const clock = new VirtualClock({ start, speed: 0 })

        const format = timelineFormatter({ broker: script === undefined })
        const recent: string[] = []
        const print = (line: string) => process.stdout.write(`${line}\n`)
        let show = (line: string) => {
          recent.push(line)
          if (recent.length > RECENT_LINES) recent.shift()
        }
        if (headless) show = print
        let drawn = () => {}
        const timeline = new Timeline((event: TimelineEvent) => {
          record?.write(`${JSON.stringify(event)}\n`)
          show(format(event))
          drawn()
        }, clock)
        const problem = (message: string) => {
          show(`  ! ${message}`)
          drawn()
        }
        const stop = await simulate(options.config, config, options.broker, logger, timeline, clock)
        let quitting: Promise<never> | undefined
        const quit = () =>
          (quitting ??= (async () => {
            timeline.end()
            await stop()
            clock.dispose()
            await new Promise<void>((resolve) => (record ? record.end(resolve) : resolve()))
            process.exit(0)
          })())
        process.once('SIGTERM', () => void quit())
        process.once('SIGINT', () => void quit())
        const runner = new CommandRunner(timeline, clock, problem)
        if (!script) clock.setSpeed(speed)

        if (script) {
          await runScript(options.script!, script.commands, timeline, runner, stop)
          return void quit()
        }
        if (headless) {
          createInterface({ input: process.stdin }).on('line', (line) => {
            if (!line.trim()) return
            const command = parseCommand(line)
            void runner.run(command).then(() => {
              if ('action' in command && command.action === 'quit') void quit()
            })
          })
          return
        }
        drawn = liveView(options, timeline, runner, clock, recent, quit)
      }),
    )
}

/** When the clock starts: `--start`, else the script's `start`, else now. */
function startTime(
  options: SimulateOptions,
  script: Script | undefined,
  timeZone: string,
  parse: (text: string, timeZone: string, now: number) => number | undefined,
): number {
  const forms = 'a date and time such as 2026-12-24T06:55 (or 06:55 for today)'
  if (options.start !== undefined) {
    const start = parse(options.start, timeZone, Date.now())
    if (start === undefined) throw new CliError(`--start must be ${forms}, not '${options.start}'`)
    return start
  }
  if (script?.start) {
    const { text, line, column } = script.start
    const start = parse(text, timeZone, Date.now())
    if (start === undefined)
      throw new CliError(`${options.script}:${line}:${column} start must be ${forms}, not '${text}'`)
    return start
  }
  return Date.now()
}

/** Opened here, synchronously, so a bad path is one clear line now rather than a stream error later. */
function openRecord(file: string | undefined): WriteStream | undefined {
  if (!file) return undefined
  let fd: number
  try {
    fd = openSync(file, 'w')
  } catch (error) {
    throw new CliError(`cannot write the timeline to ${file}: ${(error as Error).message}`)
  }
  return createWriteStream('', { fd })
}

/** Runs a script's commands in order, each once what the one before set off has happened, up to its `quit`. */
async function runScript(
  file: string,
  commands: readonly ScriptCommand[],
  timeline: Timeline,
  runner: CommandRunner,
  stop: () => Promise<void>,
): Promise<void> {
  try {
    checkScriptNames(file, commands, timeline.automationNames, timeline.deviceIds)
  } catch (error) {
    await stop()
    throw error
  }
  // What was set off as it started (a retained trigger, a schedule due at the start time) happens first.
  await runner.idle()
  for (const { command } of commands) {
    await runner.run(command)
    if (command.action === 'quit') return
  }
}

/**
 * Draws the simulation in the terminal (redrawn on every event, every tick of its clock and every resize, fitted
 * to the terminal) and takes keys and `:` commands. Returns what an event calls to have the frame redrawn.
 */
function liveView(
  options: SimulateOptions,
  timeline: Timeline,
  runner: CommandRunner,
  clock: VirtualClock,
  recent: string[],
  quit: () => Promise<never>,
): () => void {
  const mode = options.colors ?? colorSupport(process.env, true)
  const keyOf = automationKeys(timeline.automationNames)
  const keys = new Map<string, { name: string; action: 'trigger' | 'stop' }>()
  for (const [name, key] of keyOf) {
    keys.set(key, { name, action: 'trigger' })
    keys.set(key.toUpperCase(), { name, action: 'stop' })
  }
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
        clock: timeline.localNow(),
        speed: clock.speed,
        bulbs,
        automations: automations.map((automation) => {
          const key = keyOf.get(automation.name)
          return key ? { ...automation, triggerKey: key, stopKey: key.toUpperCase() } : automation
        }),
        recent,
        ...(typing === undefined ? {} : { prompt: typing }),
      },
      mode,
      { columns: process.stdout.columns || 80, rows: process.stdout.rows || 24 },
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
  // The clock on screen moves with the simulation's: at 60× its seconds would jump a minute at a time.
  const ticks = setInterval(redraw, clock.speed > 1 ? 250 : 1000)
  const onResize = () => {
    // A terminal that reflows its old lines on resize would leave them behind: start from a clear screen.
    process.stdout.write('\x1b[2J')
    draw()
  }
  process.stdout.on('resize', onResize)
  process.stdout.write('\x1b[?1049h\x1b[?25l')
  const restore = () => process.stdout.write('\x1b[?25h\x1b[?1049l')
  process.once('exit', restore)
  process.stdin.setRawMode(true)
  process.stdin.setEncoding('utf8')
  const leave = () => {
    clearInterval(ticks)
    process.stdout.off('resize', onResize)
    void quit()
  }
  const fire = (name: string, what: 'trigger' | 'stop') =>
    void runner.run({ action: what, automation: name }).then(redraw)
  process.stdin.on('data', (data: string) => {
    for (const key of data) {
      if (key === '\u0003') return leave()
      if (typing !== undefined) {
        if (key === '\r' || key === '\n') {
          const command = parseCommand(typing)
          typing = undefined
          if ('action' in command && command.action === 'quit') return leave()
          void runner.run(command).then(redraw)
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
        if (binding) fire(binding.name, binding.action)
      }
    }
  })
  draw()
  return redraw
}

/** The config and every device and automation file, checked: a simulation runs every file or none. */
async function checkedConfig(configFile: string): Promise<GenlockConfig> {
  const { checkSetup } = await import('../../setup/index.js')
  // A file the daemon would leave out is a mistake to show, not to hide.
  const setup = checkSetup(configFile)
  const first = setup.problems[0]
  if (first || !setup.config) {
    const more = setup.problems.length > 1 ? ` (and ${setup.problems.length - 1} more: run genlock validate)` : ''
    throw new CliError(`${first ? formatProblem(first) : 'config could not be read'}${more}`)
  }
  return setup.config
}

/**
 * The daemon itself on `clock`, with a twin of every bulb, no file watching, and `timeline` as one more extension:
 * on an embedded broker of its own when the config embeds one (so a running daemon is never disturbed), else as a
 * guest on the configured broker (or `--broker`), where triggers from outside reach it too. Resolves with what
 * stops it.
 */
async function simulate(
  configFile: string,
  config: GenlockConfig,
  brokerUrl: string | undefined,
  logger: Logger,
  timeline: Timeline,
  clock: VirtualClock,
): Promise<() => Promise<void>> {
  // Loaded on use, like the daemon: other commands start without them.
  const { Daemon } = await import('../../daemon/index.js')
  const { BrokerUnreachableError } = await import('../../mqtt/index.js')
  const own = brokerUrl === undefined && config.mqtt.embedded
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
      clock,
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
