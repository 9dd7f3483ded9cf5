import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { basename, dirname, join, posix } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** One instruction of a Dockerfile, continuation lines joined. */
export interface Instruction {
  readonly keyword: string
  readonly args: string
  readonly line: number
}

/** A stage as the replay left it: its files live under `root`, as if `root` were `/`. */
export interface ReplayedStage {
  readonly name: string | undefined
  readonly from: string
  readonly root: string
  workdir: string
  readonly env: Record<string, string>
  /** The instructions that only matter to a container engine (USER, HEALTHCHECK, ENTRYPOINT, ...), by keyword. */
  readonly settings: Map<string, string[]>
}

/** Parses a Dockerfile into instructions: comments and blank lines dropped, `\` continuations joined. */
export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = []
  let pending = ''
  let startLine = 0
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim()
    if (pending === '' && (line === '' || line.startsWith('#'))) continue
    if (pending === '') startLine = index + 1
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `
      continue
    }
    const whole = (pending + line).trim()
    pending = ''
    const [keyword = '', ...rest] = whole.split(/\s+/)
    instructions.push({ keyword: keyword.toUpperCase(), args: rest.join(' '), line: startLine })
  }
  return instructions
}

/** JSON exec form (`["a", "b"]`) or shell form, as the words a container engine would run. */
export function commandWords(args: string): string[] {
  return args.startsWith('[') ? (JSON.parse(args) as string[]) : ['/bin/sh', '-c', args]
}

/** Splits leading `--flag=value` options off an instruction's arguments. */
function flags(args: string): { flags: Map<string, string>; rest: string[] } {
  const words = args.split(/\s+/)
  const found = new Map<string, string>()
  while (words[0]?.startsWith('--')) {
    const [name = '', value = ''] = words.shift()!.slice(2).split('=')
    found.set(name, value)
  }
  return { flags: found, rest: words }
}

/**
 * Replays a Dockerfile without Docker: each stage gets a folder standing in for its `/`; WORKDIR and COPY act on
 * it (COPY from the build context or, with `--from`, from an earlier stage's folder), ENV is kept, and RUN steps
 * run on this machine in the stage's workdir. Only RUN steps of the form `sh <script> <args>` are accepted: they
 * take no absolute paths, so running them here does what they do in the image. The base image itself is not
 * fetched: the stage folders start empty and use this machine's node and npm.
 */
export async function replayDockerfile(
  dockerfile: string,
  context: string,
  workspace: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ReplayedStage[]> {
  const args = new Map<string, string>()
  const stages: ReplayedStage[] = []
  const ignored = dockerignore(context)
  const expand = (text: string, vars: Record<string, string | undefined>) =>
    text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (match, name: string) => vars[name] ?? match)
  for (const instruction of parseDockerfile(readFileSync(dockerfile, 'utf8'))) {
    const stage = stages.at(-1)
    const where = `${dockerfile}:${instruction.line}`
    if (instruction.keyword === 'ARG') {
      const [name = '', value = ''] = instruction.args.split('=')
      if (!stage) args.set(name, value)
      continue
    }
    if (instruction.keyword === 'FROM') {
      const { rest } = flags(instruction.args)
      const from = expand(rest[0] ?? '', Object.fromEntries(args))
      const name = rest[1]?.toUpperCase() === 'AS' ? rest[2] : undefined
      const root = join(workspace, `stage${stages.length}`)
      mkdirSync(root, { recursive: true })
      stages.push({ name, from, root, workdir: '/', env: {}, settings: new Map() })
      continue
    }
    if (!stage) throw new Error(`${where}: ${instruction.keyword} before FROM`)
    const inRoot = (path: string) => join(stage.root, posix.resolve(stage.workdir, path))
    switch (instruction.keyword) {
      case 'WORKDIR':
        stage.workdir = posix.resolve(stage.workdir, instruction.args)
        mkdirSync(inRoot('.'), { recursive: true })
        break
      case 'ENV': {
        for (const [, name = '', value = ''] of instruction.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(\S*)/g)) {
          stage.env[name] = expand(value, { ...env, ...stage.env })
        }
        break
      }
      case 'COPY': {
        const parsed = flags(instruction.args)
        const dest = parsed.rest.pop() ?? ''
        const fromName = parsed.flags.get('from')
        const fromStage = fromName === undefined ? undefined : stages.find((s) => s.name === fromName)
        if (fromName !== undefined && !fromStage) throw new Error(`${where}: no stage named ${fromName}`)
        for (const source of parsed.rest) {
          const path = fromStage ? join(fromStage.root, source) : join(context, source)
          if (!existsSync(path)) throw new Error(`${where}: COPY source ${source} does not exist`)
          const ignoredBy = fromStage ? undefined : ignored.find((pattern) => pattern.test(posix.normalize(source)))
          if (ignoredBy) throw new Error(`${where}: COPY source ${source} is left out of the context by .dockerignore`)
          const isDir = statSync(path).isDirectory()
          const target = !isDir && dest.endsWith('/') ? join(inRoot(dest), basename(source)) : inRoot(dest)
          mkdirSync(dirname(target), { recursive: true })
          cpSync(path, target, { recursive: true, verbatimSymlinks: true })
        }
        break
      }
      case 'RUN': {
        const command = flags(instruction.args).rest
        if (command[0] !== 'sh' || command.length < 2 || command.some((word) => word.startsWith('/'))) {
          throw new Error(
            `${where}: only 'sh <script> <args>' RUN steps can be replayed; put '${instruction.args}' in it`,
          )
        }
        try {
          await run(command[0], command.slice(1), { cwd: inRoot('.'), env: { ...env, ...stage.env } })
        } catch (error) {
          const failure = error as Error & { stdout?: string; stderr?: string }
          throw new Error(`${where}: RUN ${command.join(' ')} failed:\n${failure.stdout}\n${failure.stderr}`, {
            cause: error,
          })
        }
        break
      }
      default: {
        const previous = stage.settings.get(instruction.keyword) ?? []
        stage.settings.set(instruction.keyword, [...previous, instruction.args])
      }
    }
  }
  return stages
}

/**
 * The build context's .dockerignore as patterns over context-relative paths: a pattern also leaves out everything
 * under a folder it matches. (Enough for plain names and `*`/`?` globs; `!` exceptions are not supported.)
 */
function dockerignore(context: string): RegExp[] {
  const file = join(context, '.dockerignore')
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      if (line.startsWith('!')) throw new Error(`.dockerignore: exceptions (${line}) are not supported by the replay`)
      const glob = posix.normalize(line.replace(/^\/+/, ''))
      const body = glob
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')
      return new RegExp(`^${body}(/|$)`)
    })
}

/**
 * `text` with every absolute path into the stage's own top-level folders (`/app`, `/config`, ...) moved under its
 * replay folder, so an ENTRYPOINT, HEALTHCHECK or ENV value from the Dockerfile can run on this machine.
 */
export function mapPaths(stage: ReplayedStage, text: string): string {
  const tops = readdirSync(stage.root)
  if (tops.length === 0) return text
  const pattern = new RegExp(
    `(^|[\\s:=])/(${tops.map((top) => top.replace(/\W/g, '\\$&')).join('|')})(?=/|\\s|:|$)`,
    'g',
  )
  return text.replace(pattern, (_match, before: string, top: string) => `${before}${join(stage.root, top)}`)
}
