import { readFileSync } from 'node:fs'
import { CliError } from '../errors.js'
import { parseCommand, type SimCommand } from './input.js'

/** One command of a `--script` file, with where it is written. */
export interface ScriptCommand {
  readonly line: number
  /** Where the command starts (1-based). */
  readonly column: number
  readonly source: string
  readonly command: SimCommand
}

/** A script: where its clock starts (`start 2026-12-24T06:38`, its first line, if it has one) and its commands. */
export interface Script {
  readonly start?: { readonly text: string; readonly line: number; readonly column: number }
  readonly commands: readonly ScriptCommand[]
}

/**
 * Reads a simulate script: one command per line (what the `:` prompt takes), `#` comments and blank lines left
 * out, and before them all, optionally, `start <time>` (what `--start` takes): a script that says when it starts
 * gives the same timeline every run. Every problem is an error naming `file:line:column`, before anything runs.
 *
 * @example
 * // wake-up.sim
 * start 2026-12-24T06:38
 * advance 5m
 * trigger alarm
 */
export function readScript(file: string): Script {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new CliError(`cannot read the script ${file}: ${(error as Error).message}`)
  }
  const commands: ScriptCommand[] = []
  let start: Script['start']
  text.split(/\r?\n/).forEach((raw, index) => {
    const source = raw.replace(/(^|\s)#.*$/, '').trimEnd()
    if (source.trim() === '') return
    const column = source.length - source.trimStart().length + 1
    const startLine = /^start\s+(.+)$/i.exec(source.trim())
    if (startLine) {
      if (commands.length > 0 || start)
        throw new CliError(
          `${file}:${index + 1}:${column} start: only the first command of a script says when it starts`,
        )
      start = { text: startLine[1]!, line: index + 1, column: column + source.trim().indexOf(startLine[1]!) }
      return
    }
    const command = parseCommand(source)
    if ('problem' in command) throw new CliError(`${file}:${index + 1}:${column} ${command.problem}`)
    commands.push({ line: index + 1, column, source: source.trim(), command })
  })
  return start ? { start, commands } : { commands }
}

/** Checks that every automation and device the script names is in the simulation; throws naming the first one. */
export function checkScriptNames(
  file: string,
  commands: readonly ScriptCommand[],
  automations: readonly string[],
  devices: readonly string[],
): void {
  for (const { line, column, source, command } of commands) {
    const named =
      command.action === 'trigger' || command.action === 'stop'
        ? { name: command.automation, kind: 'automation', known: automations }
        : command.action === 'set'
          ? { name: command.device, kind: 'device', known: devices }
          : undefined
    if (!named || named.known.includes(named.name)) continue
    const offset = [...source.matchAll(/\S+/g)].find((word) => word[0] === named.name)?.index ?? 0
    throw new CliError(
      `${file}:${line}:${column + offset} unknown ${named.kind} '${named.name}' (there are: ${named.known.join(', ')})`,
    )
  }
}
