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

  it("keeps V8's compiled code where a restart does not empty it (the private /tmp is emptied)", () => {
    const environment = section('Service').filter(([key]) => key === 'Environment')
    expect(environment.map(([, setting]) => setting)).toContain('NODE_COMPILE_CACHE=/var/cache/genlock/compile')
    expect(value('PrivateTmp')).toBe('yes')
  })

  it('gives node the same flags as the container image does', () => {
    const entrypoint = /^ENTRYPOINT (.+)$/m.exec(readFileSync(dockerfile, 'utf8'))?.[1]
    const imageFlags = (JSON.parse(entrypoint!) as string[]).filter((word) => word.startsWith('--'))
    const unitFlags = value('ExecStart')!
      .split(' ')
      .filter((word) => word.startsWith('--') && word !== '--config')
    expect(imageFlags).toContain('--max-semi-space-size=1')
    expect(unitFlags).toEqual(imageFlags)
  })

  it('passes the sandbox checks systemd-analyze security makes for privileged and resource syscalls, other users, /proc and IP addresses', async () => {
    const { stdout } = await promisify(execFile)('systemd-analyze', [
      'security',
      '--offline=yes',
      '--json=short',
      unitFile,
    ])
    const checks = JSON.parse(stdout) as { name: string; set: boolean; description: string }[]
    const wanted = ['SystemCallFilter=~@privileged', 'SystemCallFilter=~@resources', 'PrivateUsers=', 'ProcSubset=']
    const failing = checks.filter((check) => wanted.includes(check.name) && !check.set)
    expect(failing.map((check) => `${check.name} ${check.description}`)).toEqual([])
    expect(checks.filter((check) => wanted.includes(check.name))).toHaveLength(wanted.length)
    // The LAN is allowed on purpose (bulbs, bridges, the broker), so systemd counts the allow list as partial.
    expect(checks.find((check) => check.name === 'IPAddressDeny=')?.description).toBe(
      'Service defines IP address allow list with non-localhost entries',
    )
  })

  it('talks only to this machine and the LAN, and gets EPERM (not SIGSYS) from a filtered system call', () => {
    expect(value('IPAddressDeny')).toBe('any')
    expect(value('IPAddressAllow')?.split(' ')).toEqual(
      expect.arrayContaining(['localhost', 'link-local', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']),
    )
    // node raises its open-file limit with setrlimit (in @resources) as it starts; the default action would kill it.
    expect(value('SystemCallErrorNumber')).toBe('EPERM')
  })

  it('is locked down: no new privileges, a read-only system, and only its state and cache folders writable', () => {
    expect(value('NoNewPrivileges')).toBe('yes')
    expect(value('ProtectSystem')).toBe('strict')
    expect(value('ProtectHome')).toBe('yes')
    expect(value('CapabilityBoundingSet')).toBe('')
    expect(value('StateDirectory')).toBe('genlock')
    expect(value('CacheDirectory')).toBe('genlock')
    expect(value('ReadWritePaths')).toBe('/var/lib/genlock')
    expect(value('WorkingDirectory')).toBe('/var/lib/genlock')
    // V8 writes machine code and runs it; MemoryDenyWriteExecute would crash node at start.
    expect(value('MemoryDenyWriteExecute')).toBeUndefined()
  })
})
