import { InvalidArgumentError, type Command } from 'commander'
import { formatRunList, formatTimeline } from '../daemon/extensions/traces/timeline.js'
import { loadTraceRecord } from '../daemon/extensions/traces/trace-file.js'
import { action, CliError, loadConfigOrFail } from './errors.js'

export interface TraceOptions {
  /** The run's number (as `--list` shows); default the last run. */
  readonly run?: number | undefined
  readonly list?: boolean | undefined
  readonly json?: boolean | undefined
}

/**
 * What `genlock trace` prints for `automation`, from its trace file under `dataDir`. Throws a CliError naming what
 * exists when there is no such automation trace or run.
 */
export function traceOutput(dataDir: string, automation: string, options: TraceOptions, timeZone?: string): string {
  const record = loadTraceRecord(dataDir, automation)
  if (!record || record.runs.length === 0)
    throw new CliError(`no runs of '${automation}' recorded in ${dataDir}/traces (has it run since traces were on?)`)
  if (options.list) {
    return options.json ? `${JSON.stringify(record.runs, null, 2)}\n` : `${formatRunList(record.runs, timeZone)}\n`
  }
  const trace = options.run === undefined ? record.runs.at(-1)! : record.runs.find((run) => run.number === options.run)
  if (!trace) {
    const numbers = record.runs.map((run) => run.number)
    throw new CliError(
      `'${automation}' has no run ${options.run} kept; runs ${numbers[0]}–${numbers.at(-1)} are (the last 20)`,
    )
  }
  return options.json ? `${JSON.stringify(trace, null, 2)}\n` : formatTimeline(trace, timeZone)
}

/**
 * `genlock trace <automation>`: one run as a timeline, from the trace files the daemon keeps under `data_dir`.
 * It reads the file rather than asking the daemon: it works while the daemon is stopped (after a crash, on
 * another restart), needs no port or socket, and the daemon writes each change within a second.
 */
export function addTraceCommand(program: Command): void {
  program
    .command('trace')
    .description("print an automation's last run (or run N) as a timeline: steps, commands, lock waits, preemptions")
    .argument('<automation>', 'the automation’s name')
    .option(
      '-c, --config <file>',
      'the config file the daemon runs with (its data_dir holds the traces)',
      'config.yaml',
    )
    .option('-r, --run <n>', 'the run number to print (see --list); default the last one', parseRun)
    .option('-l, --list', 'list the kept runs (the last 20) instead')
    .option('--json', 'print the trace as JSON')
    .addHelpText('after', '\nExample:\n  $ genlock trace party --config config.yaml\n  $ genlock trace party --run 12')
    .action(
      action('trace', (automation: string, options: TraceOptions & { config: string }) => {
        const config = loadConfigOrFail(options.config)
        process.stdout.write(traceOutput(config.dataDir, automation, options, config.timezone))
      }),
    )
}

function parseRun(value: string): number {
  const run = Number(value)
  if (!Number.isInteger(run) || run < 1) throw new InvalidArgumentError('a run number (1, 2, …) is needed')
  return run
}
