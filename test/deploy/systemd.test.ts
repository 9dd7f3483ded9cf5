import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const unitFile = join(import.meta.dirname, '../../deploy/genlock.service')
const dockerfile = join(import.meta.dirname, '../../Dockerfile')

/** The unit's `Key=value` lines of one section, in order (a key may repeat). */
function section(name: string): [string, string][] {
  const entries: [string, string][] = []
  let current = ''
  for (const line of readFileSync(unitFile, 'utf8').split('\n')) {
    const header = /^\[(.+)\]$/.exec(line.trim())
    if (header) current = header[1]!
    else if (current === name && /^[A-Za-z]+=/.test(line)) {
      const at = line.indexOf('=')
      entries.push([line.slice(0, at), line.slice(at + 1)])
    }
  }
  return entries
}

function value(key: string): string | undefined {
  return section('Service').find(([name]) => name === key)?.[1]
}

describe('deploy/genlock.service', () => {
  it('passes systemd-analyze verify without a single warning', async () => {
    const { stdout, stderr } = await promisify(execFile)('systemd-analyze', ['verify', unitFile])
    expect(stdout + stderr).toBe('')
  })

  it('runs genlock as its own unprivileged user and restarts it when it fails', () => {
    expect(value('User')).toBe('genlock')
    expect(value('ExecStart')).toMatch(
      /^\/usr\/bin\/node( --\S+)* \/opt\/genlock\/dist\/cli\/index\.js run --config \/etc\/genlock\/config\.yaml$/,
    )
    expect(value('Restart')).toBe('on-failure')
    expect(value('KillSignal')).toBe('SIGTERM')
  })

  it('gives node the same flags as the container image does', () => {
    const entrypoint = /^ENTRYPOINT (.+)$/m.exec(readFileSync(dockerfile, 'utf8'))?.[1]
    const imageFlags = (JSON.parse(entrypoint!) as string[]).filter((word) => word.startsWith('--'))
    const unitFlags = value('ExecStart')!
      .split(' ')
      .filter((word) => word.startsWith('--') && word !== '--config')
    expect(imageFlags).toContain('--optimize-for-size')
    expect(unitFlags).toEqual(imageFlags)
  })

  it('is locked down: no new privileges, a read-only system, and only its state folder writable', () => {
    expect(value('NoNewPrivileges')).toBe('yes')
    expect(value('ProtectSystem')).toBe('strict')
    expect(value('ProtectHome')).toBe('yes')
    expect(value('CapabilityBoundingSet')).toBe('')
    expect(value('StateDirectory')).toBe('genlock')
    expect(value('ReadWritePaths')).toBe('/var/lib/genlock')
    expect(value('WorkingDirectory')).toBe('/var/lib/genlock')
    // V8 writes machine code and runs it; MemoryDenyWriteExecute would crash node at start.
    expect(value('MemoryDenyWriteExecute')).toBeUndefined()
  })
})
