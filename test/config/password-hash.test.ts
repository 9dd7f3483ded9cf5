import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import {
  hashPassword,
  loginChecker,
  parsePasswordHash,
  passwordHashProblem,
  verifyPassword,
} from '../../src/config/password-hash.js'

describe('password hashes for the embedded broker', () => {
  it('hashes into the PHC scrypt format with a fresh salt each time, and verifies only the right password', async () => {
    const [first, second] = await Promise.all([hashPassword('correct horse'), hashPassword('correct horse')])
    expect(first).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/)
    expect(second).not.toBe(first)
    expect(await verifyPassword('correct horse', parsePasswordHash(first))).toBe(true)
    expect(await verifyPassword('correct horse ', parsePasswordHash(first))).toBe(false)
    expect(await verifyPassword(Buffer.from('correct horse'), parsePasswordHash(second))).toBe(true)
  })

  it('says what is wrong with something that is not a hash it can check', () => {
    expect(passwordHashProblem('hunter2')).toMatch(/genlock hash-password.*not a password/)
    expect(passwordHashProblem('$scrypt$ln=30,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA')).toMatch(
      /^ln must be 10 to 16/,
    )
    expect(passwordHashProblem('$scrypt$ln=14,r=99,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA')).toMatch(/^r must be/)
    expect(passwordHashProblem('$scrypt$ln=14,r=8,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA')).toMatch(
      /salt must be at least 8/,
    )
    expect(passwordHashProblem('$scrypt$ln=14,r=8,p=1$c2FsdHNhbHQ$aGFzaA')).toMatch(/hash must be at least 16/)
    expect(() => parsePasswordHash('hunter2')).toThrow(/^not a password hash: /)
  })

  it('checks logins: genlock’s own password, hashed users, and nobody else', async () => {
    const check = loginChecker([
      { username: 'genlock', password: 'own-secret' },
      { username: 'ha', passwordHash: await hashPassword('ha-secret') },
    ])
    expect(await check('genlock', Buffer.from('own-secret'))).toBe(true)
    expect(await check('genlock', Buffer.from('own-secret!'))).toBe(false)
    expect(await check('ha', Buffer.from('ha-secret'))).toBe(true)
    expect(await check('ha', Buffer.from('own-secret'))).toBe(false)
    expect(await check('mallory', Buffer.from('ha-secret'))).toBe(false)
  })

  it('the README’s one-liner (without genlock at hand) makes a hash genlock accepts', async () => {
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8')
    const oneLiner = /^printf '%s' "\$PASSWORD" \| node -e .*$/m.exec(readme)?.[0]
    expect(oneLiner).toBeDefined()
    const { stdout } = await promisify(execFile)('sh', ['-c', oneLiner!], {
      env: { ...process.env, PASSWORD: 'from the readme' },
    })
    const hash = stdout.trim()
    expect(passwordHashProblem(hash)).toBeUndefined()
    expect(await verifyPassword('from the readme', parsePasswordHash(hash))).toBe(true)
  })
})
