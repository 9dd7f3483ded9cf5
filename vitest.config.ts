import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { defineConfig } from 'vitest/config'

/**
 * What makes a test an integration test: it starts a service or a process, or opens a socket — itself or through
 * a helper under test/ it imports. Everything else is a unit test: no services, runs in seconds
 * (`npx vitest run --project unit`). `npm test` runs both projects.
 */
const NEEDS_THE_OUTSIDE = new RegExp(
  [
    /\b(startMosquitto|startRedis|ServiceProcess|startEmbeddedBroker|startTestDaemon|haTestBed|Daemon\.start)\b/,
    /\b(MqttConnection\.open|MqttToolClient\.connect|Observer\.connect|createServer|fetch\(|genlock\()/,
    /\b(TmuxSession|GenlockProcess|DaemonProcess)\b/,
    /(from|import\()\s*'(node:child_process|tplink-smarthome-simulator)'/,
  ]
    .map((part) => part.source)
    .join('|'),
)

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? testFiles(join(dir, entry.name))
      : entry.name.endsWith('.test.ts')
        ? [join(dir, entry.name)]
        : [],
  )
}

/** Whether `file`, or a helper under test/ it imports (transitively), reaches outside the process. */
function reachesOutside(file: string, seen = new Set<string>()): boolean {
  if (seen.has(file)) return false
  seen.add(file)
  const text = readFileSync(file, 'utf8')
  if (NEEDS_THE_OUTSIDE.test(text)) return true
  for (const [, specifier] of text.matchAll(/\bfrom\s+'(\.[^']+)'/g)) {
    const target = resolve(dirname(file), specifier!).replace(/\.js$/, '.ts')
    if (relative('test', target).startsWith('..')) continue // src: what it does is the test's to show
    if (reachesOutside(target, seen)) return true
  }
  return false
}

const all = testFiles('test')
const integration = all.filter((file) => reachesOutside(file))
const unit = all.filter((file) => !integration.includes(file))

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: unit, testTimeout: 10_000 } },
      { test: { name: 'integration', include: integration, testTimeout: 20_000, hookTimeout: 30_000 } },
    ],
  },
})
