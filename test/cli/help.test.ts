import { describe, expect, it } from 'vitest'
import { genlock } from './support/genlock-process.js'

describe('genlock --help', () => {
  it('lists every command', async () => {
    const result = await genlock('--help')
    expect(result.code).toBe(0)
    for (const command of ['trigger', 'status', 'trace', 'simulate', 'sim', 'hue', 'discover'])
      expect(result.stdout).toMatch(new RegExp(`^  ${command} `, 'm'))
  })

  it.each(['trigger', 'status', 'trace', 'simulate', 'sim', 'discover', 'hue pair'])(
    'genlock %s --help shows an example',
    async (command) => {
      const result = await genlock(...command.split(' '), '--help')
      expect(result.code).toBe(0)
      expect(result.stdout).toMatch(new RegExp(`Examples?:\\n  \\$ genlock ${command} `))
    },
  )
})
