/** Letters that can fire an automation: q is kept for quitting. */
const LETTERS = 'abcdefghijklmnoprstuvwxyz'

/**
 * A key letter per automation, from its name rather than its place in the folder, so adding an automation leaves
 * the others' keys alone (unless the new one wants the same letter more: its first letter against their second).
 * Each name's choices are its own letters in order, then the rest of the alphabet; every first choice is settled
 * before any second one, ties going to the name that sorts first. Upper case is the stop key. Names beyond 25 get
 * none.
 *
 * @example
 * automationKeys(['party', 'alarm', 'pulse']) // Map { 'alarm' => 'a', 'party' => 'p', 'pulse' => 'u' }
 */
export function automationKeys(names: readonly string[]): Map<string, string> {
  const sorted = [...new Set(names)].sort()
  const choices = new Map(sorted.map((name) => [name, choicesOf(name)]))
  const keys = new Map<string, string>()
  const taken = new Set<string>()
  for (let round = 0; round < LETTERS.length && keys.size < Math.min(sorted.length, LETTERS.length); round++) {
    for (const name of sorted) {
      if (keys.has(name)) continue
      const letter = choices.get(name)![round]!
      if (taken.has(letter)) continue
      taken.add(letter)
      keys.set(name, letter)
    }
  }
  return keys
}

function choicesOf(name: string): string[] {
  const own = [...name.toLowerCase()].filter((letter) => LETTERS.includes(letter))
  return [...new Set([...own, ...LETTERS])]
}
