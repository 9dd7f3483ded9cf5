/**
 * YAML files that attack the loader: an alias bomb ("billion laughs"), an oversized file, invalid UTF-8. Shared by
 * the unit tests of YamlSource and the tests that drive the built `genlock` with them.
 */

/**
 * Nine levels of nine aliases each: 9^9 (387 million) "lol"s once expanded, from 650 bytes. `extra` (say
 * `id: bomb\nadapter: sim\n`) comes first, so the file otherwise looks like a device or an automation.
 */
export function aliasBomb(extra = ''): string {
  const names = 'abcdefghi'
  const lines = [`a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]`]
  for (let level = 1; level < names.length; level++) {
    const previous = `*${names[level - 1]}`
    lines.push(`${names[level]}: &${names[level]} [${Array(9).fill(previous).join(', ')}]`)
  }
  return `${extra}${lines.join('\n')}\n`
}

/** An automation file of `bytes` bytes: a valid header, then one long string (the 5 MB case). */
export function oversizedAutomation(bytes: number, name = 'huge'): string {
  const head = `name: ${name}\ndevices: [bath_bulb]\nsteps:\n  - log: "`
  return `${head}${'x'.repeat(Math.max(0, bytes - head.length - 2))}"\n`
}

/**
 * A device file whose line 3 holds a byte that is not UTF-8 (0xff) at column 7: `name: ba<0xff>th`.
 * Decoded leniently it would silently become `ba\uFFFDth`.
 */
export function invalidUtf8Device(id = 'mangled'): Buffer {
  return Buffer.concat([Buffer.from(`id: ${id}\nadapter: sim\nname: ba`), Buffer.from([0xff]), Buffer.from('th\n')])
}
