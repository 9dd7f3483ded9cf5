/** What the user of `genlock simulate` types or presses, and the MQTT message that fires an automation. */
import type { TriggerDefinition } from '../../automation/index.js'
import { isWildcard } from '../../bus/index.js'

/** Letters for the automations' keys, in file order; q is kept for quitting. */
export const KEYS = 'abcdefghijklmnoprstuvwxyz'

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
