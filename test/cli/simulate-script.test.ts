import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createProgram } from '../../src/cli/program.js'
import { genlockArgv, type Finished } from './support/genlock-process.js'

const ROOT = join(import.meta.dirname, '../..')
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href

/** `genlock <args>` in `cwd`, with `input` on stdin and the zone fixed (the script's times are wall-clock times). */
function run(cwd: string, input: string, ...args: string[]): Promise<Finished> {
  return new Promise((resolve) => {
    // tsx by its path: `--import tsx` is looked up from the working directory, which may be anywhere.
    const [node, ...argv] = genlockArgv(...args).map((arg) => (arg === 'tsx' ? TSX : arg))
    const child = execFile(
      node!,
      argv,
      { cwd, env: { ...process.env, NO_COLOR: '1', TZ: 'UTC' } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    )
    child.stdin?.end(input)
  })
}

/** The lines of a headless timeline without their time stamps. */
const events = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((line) => line.replace(/^(\d{4}-\d\d-\d\d )?(\d\d:\d\d:\d\d)\.\d{3} {2}/, '$2 '))

/** The wake-up example's timeline: as printed when it was written (TZ=UTC), and what it must show. */
function checkWakeUpAlarm(result: Finished): void {
  expect(result.stderr).toBe('')
  expect(result.code).toBe(0)
  // What it printed when the example was written (TZ=UTC): a script's clock moves only with its commands. After a
  // change to the shipped setup, write it again and read the diff:
  //   TZ=UTC npm run -s genlock -- simulate --config config.example.yaml --script examples/wake-up-alarm.sim \
  //     > examples/wake-up-alarm.out
  expect(result.stdout).toBe(readFileSync(join(ROOT, 'examples/wake-up-alarm.out'), 'utf8'))

  const lines = events(result.stdout)
  const bath = (line: string) => /^(\S+) bulb bath_bulb: on (\d+)% \S+, held by (\w+)$/.exec(line)?.slice(1)
  const ramp = lines.map(bath).filter((match) => match !== undefined)
  // The cron trigger at 06:40 (a Thursday) starts the ramp; it climbs 5% a minute.
  expect(ramp.slice(0, 3)).toEqual([
    ['06:40:00', '1', 'wake_up'],
    ['06:41:00', '5', 'wake_up'],
    ['06:42:00', '10', 'wake_up'],
  ])
  // 06:47:30: the alarm takes the bulb; the ramp is suspended, not ended.
  expect(lines).toContain('06:47:30 automation wake_up: suspended')
  expect(ramp).toContainEqual(['06:47:30', '50', 'alarm'])
  expect(lines.some((line) => /^06:47:3\d automation wake_up: idle$/.test(line))).toBe(false)
  // The alarm stops at 06:47:32: the ramp goes on with its next step, 40%, not back at 1%.
  const back = ramp.findIndex(([time, , holder]) => time! > '06:47:30' && holder === 'wake_up')
  // Resuming, it first puts its own look back (35%, where the alarm found it), then takes its next step.
  expect(ramp.slice(back - 1, back + 4)).toEqual([
    ['06:47:32', '50', 'alarm'],
    ['06:47:32', '50', 'wake_up'],
    ['06:47:32', '35', 'wake_up'],
    ['06:47:32', '40', 'wake_up'],
    ['06:48:32', '45', 'wake_up'],
  ])
  expect(ramp.at(-1)).toEqual(['06:59:32', '100', 'wake_up'])
  expect(lines).toContain('06:59:32 automation wake_up: idle')
  expect(lines.at(-1)).toBe('07:00:32 quit')
}

/** The `$ genlock simulate …` lines of `genlock simulate --help`, as argument lists. */
async function helpExamples(): Promise<string[][]> {
  const simulate = (await createProgram(['node', 'genlock', 'simulate'])).commands.find(
    (command) => command.name() === 'simulate',
  )!
  let help = ''
  simulate.configureOutput({ writeOut: (text) => (help += text) })
  simulate.outputHelp()
  return [...help.matchAll(/^ {2}\$ genlock (simulate .+?)(?:\s+#.*)?$/gm)].map((match) =>
    match[1]!.trim().split(/\s+/),
  )
}

const examples = await helpExamples()

describe('the examples in genlock simulate --help run as written from the repository', () => {
  it('there is one for the live view, the speed, headless with a record, and a script', () => {
    expect(examples.map((args) => args.slice(3).join(' '))).toEqual([
      '',
      '--speed 60 --start 06:35',
      '--headless --record run.jsonl',
      '--script examples/wake-up-alarm.sim',
    ])
  })

  it.each(examples.map((args) => [args.join(' '), args]))('genlock %s', async (_, args) => {
    // In a copy of the repository's layout, so --record writes there; without a terminal the view is headless.
    const dir = mkdtempSync(join(tmpdir(), 'genlock-sim-help-'))
    for (const entry of ['config.example.yaml', 'devices', 'automations', 'examples'])
      symlinkSync(join(ROOT, entry), join(dir, entry))
    const result = await run(dir, 'trigger party\nquit\n', ...args)
    if (args.includes('--script')) return checkWakeUpAlarm(result)
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const lines = events(result.stdout)
    expect(lines[0]).toMatch(
      /started \(\w+, UTC\): 3 bulbs, automations alarm, doorbell, kitchen_scene, night_light, party, wake_up; broker mqtt:/,
    )
    // Quit came right behind the trigger, and still the party had started.
    expect(lines.slice(-4)).toEqual([
      expect.stringMatching(/automation party: running$/),
      expect.stringMatching(/bulb bath_bulb: off 100% white, held by party$/),
      expect.stringMatching(/bulb bath_bulb: on 80% #ff0000, held by party$/),
      expect.stringMatching(/quit$/),
    ])
    if (args.includes('--record')) {
      const record = readFileSync(join(dir, 'run.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { type: string })
      expect(record.map((event) => event.type)).toEqual([
        'start',
        'bulb',
        'bulb',
        'bulb',
        'input',
        'automation',
        'bulb',
        'bulb',
        'end',
      ])
    }
  })
})

describe('genlock simulate --script', () => {
  it('stops at the first line that is no command, naming file:line:column, before starting anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'genlock-sim-script-'))
    const script = join(dir, 'bad.sim')
    const { writeFileSync } = await import('node:fs')
    writeFileSync(script, 'advance 1m\n  trigger\n')
    const result = await run(ROOT, '', 'simulate', '--config', 'config.example.yaml', '--script', script)
    expect(result).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(new RegExp(`^genlock simulate: ${script}:2:3 not a command: trigger`)),
    })
  })
})
