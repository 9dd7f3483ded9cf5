/** What the user of `genlock simulate` types, presses or scripts, and the MQTT message that fires an automation. */
import type { TriggerDefinition } from '../../automation/index.js'
import { parseDuration } from '../../config/duration.js'
import { isWildcard, publishTopicProblem } from '../../bus/index.js'
import type { BulbCommand } from '../../devices/bulb.js'
import { parseColor } from '../../devices/color.js'

/** One command of the `:` prompt, `--headless` stdin or a `--script` file. */
export type SimCommand =
  | { readonly action: 'trigger' | 'stop'; readonly automation: string }
  | { readonly action: 'publish'; readonly topic: string; readonly payload: string }
  /** An outside change: the simulated bulb reports a state genlock did not command (the app, a wall switch). */
  | { readonly action: 'set'; readonly device: string; readonly change: BulbCommand; readonly text: string }
  | { readonly action: 'advance'; readonly ms: number; readonly text: string }
  | { readonly action: 'quit' }

/** The commands, as the prompt and errors list them. */
export const COMMAND_HELP =
  'trigger <name> | stop <name> | publish <topic> <payload> | set <device> on|off|50%|red|2700K | advance 10m | quit'

/**
 * A typed or scripted command (`trigger party`, `party on`, `stop alarm`, `alarm off`, `publish home/alarm ON`,
 * `set bath_bulb off`, `set hall_bulb on 40% 2700K`, `advance 10m`, `quit`), or what is wrong with it.
 *
 * @example
 * parseCommand('set bath_bulb on 40% red') // { action: 'set', device: 'bath_bulb', change: { on: true, brightness: 40, color: 'red' }, … }
 */
export function parseCommand(line: string): SimCommand | { readonly problem: string } {
  const text = line.trim()
  const words = text.split(/\s+/)
  const [first = '', second] = words
  const verb = first.toLowerCase()
  if (words.length === 1 && /^(q|quit|exit)$/.test(verb)) return { action: 'quit' }
  if (verb === 'publish') {
    const match = /^\S+\s+(\S+)(?:\s(.*))?$/.exec(text)
    if (!match) return { problem: 'publish needs a topic and a payload: publish home/alarm ON' }
    const topic = match[1]!
    const problem = publishTopicProblem(topic)
    if (problem) return { problem: `publish ${topic}: ${problem}` }
    return { action: 'publish', topic, payload: match[2] ?? '' }
  }
  if (verb === 'set' && words.length >= 3) {
    const change = parseChange(words.slice(2))
    if ('problem' in change) return { problem: `set ${second}: ${change.problem}` }
    return { action: 'set', device: second!, change: change.command, text: words.slice(2).join(' ') }
  }
  if (verb === 'advance') {
    const amount = words.slice(1).join(' ')
    const ms = amount === '' ? undefined : parseDuration(amount)
    if (ms === undefined) return { problem: `advance: '${amount}' is not a duration (write 30s, 10m, 1h or 00:10:00)` }
    return { action: 'advance', ms, text: amount }
  }
  if (words.length === 2) {
    const b = second!.toLowerCase()
    if (/^(trigger|start|on)$/.test(verb)) return { action: 'trigger', automation: second! }
    if (/^(stop|off)$/.test(verb)) return { action: 'stop', automation: second! }
    if (b === 'on') return { action: 'trigger', automation: first }
    if (b === 'off') return { action: 'stop', automation: first }
  }
  return { problem: `not a command: ${text} (try: ${COMMAND_HELP})` }
}

/** A typed command, or undefined when it is not one. */
export function parseTypedCommand(line: string): SimCommand | undefined {
  const command = parseCommand(line)
  return 'problem' in command ? undefined : command
}

/** `on`, `off`, `40%`, `2700K`, and a colour (a CSS name or #hex), in any order. */
function parseChange(words: readonly string[]): { command: BulbCommand } | { problem: string } {
  const command: { -readonly [K in keyof BulbCommand]: BulbCommand[K] } = {}
  for (const word of words) {
    const lower = word.toLowerCase()
    if (lower === 'on' || lower === 'off') command.on = lower === 'on'
    else if (/^\d+(\.\d+)?%$/.test(word)) {
      const brightness = Number(word.slice(0, -1))
      if (brightness > 100) return { problem: `brightness ${word} is over 100%` }
      command.brightness = brightness
    } else if (/^\d+k$/i.test(word)) command.colorTemp = Number(word.slice(0, -1))
    else {
      try {
        parseColor(word)
      } catch {
        return { problem: `'${word}' is not on, off, a brightness (40%), a white (2700K) or a colour (red, #ff8800)` }
      }
      command.color = word
    }
  }
  return { command }
}

/** The message that fires `trigger`, when one can be built (a plain topic, no condition); else undefined. */
export function messageFor(trigger: TriggerDefinition | undefined): { topic: string; payload: string } | undefined {
  if (!trigger || trigger.kind !== 'mqtt' || isWildcard(trigger.topic) || trigger.condition !== undefined) {
    return undefined
  }
  if (trigger.payload !== undefined) return { topic: trigger.topic, payload: trigger.payload }
  if (trigger.json) {
    const body: Record<string, unknown> = {}
    for (const [path, value] of Object.entries(trigger.json)) {
      const keys = path.split('.')
      let node = body
      for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>
      node[keys.at(-1)!] = value
    }
    return { topic: trigger.topic, payload: JSON.stringify(body) }
  }
  return { topic: trigger.topic, payload: 'ON' }
}
