import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, ServiceProcess } from '../support/services.js'

/** PEM files for a throwaway CA, a server certificate for 127.0.0.1 signed by it, and a client certificate. */
export interface TestCertificates {
  readonly dir: string
  readonly caFile: string
  readonly ca: Buffer
  readonly clientCert: Buffer
  readonly clientKey: Buffer
}

export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'genlock-tls-'))
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=genlock test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  )
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1\n')
  for (const name of ['server', 'client']) {
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${name === 'server' ? '127.0.0.1' : 'genlock'}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    )
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      'san.cnf',
      '-out',
      `${name}.pem`,
    )
  }
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    ca: readFileSync(join(dir, 'ca.pem')),
    clientCert: readFileSync(join(dir, 'client.pem')),
    clientKey: readFileSync(join(dir, 'client.key')),
  }
}

/**
 * A real mosquitto that only speaks TLS, wants a client certificate signed by `certs`' CA, and a username and
 * password from its password file.
 */
export async function startSecureMosquitto(
  certs: TestCertificates,
  user: { username: string; password: string },
): Promise<ServiceProcess & { url: string }> {
  const port = await freePort()
  const passwords = join(certs.dir, 'passwords')
  writeFileSync(passwords, '')
  execFileSync('mosquitto_passwd', ['-b', passwords, user.username, user.password], { stdio: 'pipe' })
  const service = new ServiceProcess(
    'mosquitto-tls',
    port,
    'mosquitto',
    (dir) => {
      const conf = join(dir, 'mosquitto.conf')
      writeFileSync(
        conf,
        [
          `listener ${port} 127.0.0.1`,
          `cafile ${certs.caFile}`,
          `certfile ${join(certs.dir, 'server.pem')}`,
          `keyfile ${join(certs.dir, 'server.key')}`,
          'require_certificate true',
          // Run as root (as in CI containers), mosquitto drops to user `mosquitto`, which cannot read our 0700 dir.
          'user root',
          'allow_anonymous false',
          `password_file ${passwords}`,
          'log_dest stderr',
          'log_type all',
          '',
        ].join('\n'),
      )
      return ['-c', conf]
    },
    /mosquitto version .* running/,
  )
  await service.start()
  return Object.assign(service, { url: `mqtts://127.0.0.1:${port}` })
}
