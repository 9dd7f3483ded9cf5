import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/config.js'
import { writeSetup } from '../cli/setup-files.js'
import { problemsOf } from '../support/config-problems.js'

const TOKEN = '0123456789abcdef0123'

function load(config: string, env: NodeJS.ProcessEnv = {}) {
  const { configFile } = writeSetup({ config })
  return { configFile, load: () => loadConfig(configFile, env) }
}

describe('http: the dashboard listener in config.yaml', () => {
  it('is off when the section is absent', () => {
    expect(load('mqtt: { embedded: true }\n').load().http).toBeUndefined()
  })

  it('listens on 127.0.0.1:8099 with no token and no /metrics by default', () => {
    expect(load('http: {}\n').load().http).toEqual({
      port: 8099,
      host: '127.0.0.1',
      token: undefined,
      ingressProxy: undefined,
      metrics: false,
    })
  })

  it('refuses a host beyond loopback without a token, at http.host, saying what to do', () => {
    const { configFile, load: run } = load('http:\n  host: 0.0.0.0\n')
    expect(problemsOf(run)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${configFile}:2:9 http\\.host: 0\\.0\\.0\\.0 lets other machines reach the dashboard, .*set http\\.token \\(e\\.g\\. token: \\$\\{GENLOCK_HTTP_TOKEN\\}.*host: 127\\.0\\.0\\.1$`,
        ),
      ),
    ])
  })

  it('takes the token from the environment and accepts any host with it', () => {
    const config = load('http:\n  host: 0.0.0.0\n  token: ${GENLOCK_HTTP_TOKEN}\n  metrics: true\n', {
      GENLOCK_HTTP_TOKEN: TOKEN,
    }).load()
    expect(config.http).toMatchObject({ host: '0.0.0.0', token: TOKEN, metrics: true })
  })

  it('names the variable when the token is not set, and refuses a short (guessable) token', () => {
    const unset = load('http:\n  host: 0.0.0.0\n  token: ${GENLOCK_HTTP_TOKEN}\n')
    expect(problemsOf(unset.load).join('\n')).toMatch(/environment variable GENLOCK_HTTP_TOKEN is not set/)
    const short = load('http:\n  token: ${GENLOCK_HTTP_TOKEN}\n', { GENLOCK_HTTP_TOKEN: 'secret' })
    expect(problemsOf(short.load)).toEqual([expect.stringMatching(/:2:10 http\.token: must be at least 16 characters/)])
  })

  it('accepts a host beyond loopback behind an ingress proxy, which must be an IP address', () => {
    const config = load('http:\n  host: 0.0.0.0\n  ingress_proxy: 172.30.32.2\n').load()
    expect(config.http).toMatchObject({ host: '0.0.0.0', token: undefined, ingressProxy: '172.30.32.2' })
    const named = load('http:\n  host: 0.0.0.0\n  ingress_proxy: supervisor\n')
    expect(problemsOf(named.load)).toEqual([expect.stringMatching(/:3:18 http\.ingress_proxy: must be an IP address/)])
  })
})
