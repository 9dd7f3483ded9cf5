/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core, against the daemon on a real
 * mosquitto. The page is used as a person would: buttons pressed, the swatch and the words read.
 *
 * `DASHBOARD_SCREENSHOT=docs/dashboard.png npx vitest run test/dashboard/browser.test.ts` also saves the picture
 * the README shows.
 */
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Bulb } from '../../src/devices/index.js'
import { ALARM, PARTY, simBulb } from '../cli/setup-files.js'
import { startTestDaemon, type TestDaemon } from '../daemon/harness.js'
import { Observer } from '../mqtt/observer.js'
import { freePort, startMosquitto, type ServiceProcess } from '../support/services.js'

/** Debian's package; .ci/run installs it. */
const CHROMIUM = '/usr/bin/chromium'
/** A phone's width: the page must work there first. */
const PHONE = { width: 390, height: 844 }
const PARTY_COLOURS = ['#ff0000', '#0000ff', '#ffff00']

describe('the dashboard in Chromium', () => {
  let mosquitto: ServiceProcess & { url: string }
  let mqtt: Observer
  let browser: Browser
  let running: TestDaemon
  let port: number

  beforeAll(async () => {
    mosquitto = await startMosquitto()
    mqtt = await Observer.connect(mosquitto.url)
    // --no-sandbox: Chromium's sandbox cannot start as root, which is how CI runs.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
    port = await freePort()
    running = await startTestDaemon(
      mosquitto.url,
      {
        devices: { 'bath_bulb.yaml': simBulb('bath_bulb') },
        automations: { 'party.yaml': PARTY, 'alarm.yaml': ALARM, 'broken.yaml': 'name: broken\npriority: high\n' },
      },
      `http: { port: ${port} }\n`,
    )
  })
  afterAll(async () => {
    await running?.daemon.stop()
    await browser?.close()
    await mqtt?.close()
    await mosquitto?.dispose()
  })

  /** Waits until the element at `selector` shows text matching `text`. */
  const shows = (page: Page, selector: string, text: RegExp | string) =>
    page.locator(selector).filter({ hasText: text }).first().waitFor({ timeout: 10_000 })
  const swatchColour = (page: Page) =>
    page.locator('[data-bulb="bath_bulb"] .swatch').getAttribute('data-color', { timeout: 10_000 })

  it('shows the bulbs, runs, preemptions and a manual hold live, and its buttons act', async () => {
    const page = await browser.newPage({ viewport: PHONE })
    let bytes = 0
    page.on('response', (response) => {
      void response.body().then(
        (body) => (bytes += body.length),
        () => undefined, // the event stream has no body to read
      )
    })
    await page.goto(`http://127.0.0.1:${port}/`)
    await shows(page, '#connection', 'live')
    await shows(page, '[data-bulb="bath_bulb"] .holder', 'free')
    await shows(page, '[data-automation="party"] .state', 'idle')
    expect(PARTY_COLOURS).not.toContain(await swatchColour(page))
    // The broken automation file is listed with where it is broken.
    await shows(page, '#problems', /automations\/broken\.yaml:2:\d+ priority/)
    await shows(page, '#health', /online/)

    // Press party's start: the swatch takes the party's colours and says who holds the bulb.
    await page.getByRole('button', { name: 'Start party' }).click()
    await shows(page, '[data-bulb="bath_bulb"] .holder', 'held by party (0)')
    const partySwatch = PARTY_COLOURS.map((colour) => `[data-bulb="bath_bulb"] .swatch[data-color="${colour}"]`)
    await page.locator(partySwatch.join(', ')).waitFor({ timeout: 10_000 })
    await shows(page, '[data-automation="party"] .state', 'running')

    // The alarm over MQTT: party is suspended, waits for the bulb, and the timeline shows who preempted it.
    await mqtt.publish('home/alarm', 'ON')
    await shows(page, '[data-bulb="bath_bulb"] .holder', 'held by alarm (200)')
    await shows(page, '[data-automation="party"] .state', 'suspended')
    await shows(page, '[data-automation="alarm"] .state', 'running')
    await shows(page, '#timeline [data-run="alarm"]', 'alarm')
    await shows(page, '#timeline [data-run="party"] .notes', 'preempted by alarm (200)')
    await mqtt.publish('home/alarm', 'OFF')
    await shows(page, '#timeline [data-run="party"] .notes', /preempted by alarm \(200\).*resumed/)
    await shows(page, '[data-bulb="bath_bulb"] .holder', 'held by party (0)')

    // A person's hold (manual, priority 100), taken the way manual control takes it: party is held back.
    const hold = holdManually(running.daemon.context.locks, running.bulb('bath_bulb'))
    await shows(page, '[data-bulb="bath_bulb"] .holder', 'held by manual (100)')
    await shows(page, '[data-automation="party"] .state', 'held back')
    await shows(page, '#timeline [data-run="manual on bath_bulb"]', 'manual on bath_bulb')
    expect(await swatchColour(page)).toBe('#008000')
    if (process.env.DASHBOARD_SCREENSHOT)
      await page.screenshot({ path: process.env.DASHBOARD_SCREENSHOT, fullPage: true })

    // Release asks whoever keeps manual holds over MQTT; here the test answers it and ends the hold.
    const asked = mqtt.waitFor((m) => m.topic === `${running.baseTopic}/device/bath_bulb/release`, mqtt.mark)
    await page.getByRole('button', { name: 'Release bath_bulb' }).click()
    await asked
    hold.end()
    await shows(page, '[data-bulb="bath_bulb"] .holder', 'held by party (0)')
    await shows(page, '#timeline [data-run="manual on bath_bulb"] .notes', 'released')

    // And stop, with the other button.
    await page.getByRole('button', { name: 'Stop party' }).click()
    await shows(page, '[data-automation="party"] .state', 'idle')
    await shows(page, '[data-bulb="bath_bulb"] .holder', 'free')

    expect(bytes).toBeGreaterThan(0)
    expect(bytes).toBeLessThan(150 * 1024)
    await page.close()
  }, 60_000)
})

/** Holds `bulb` as `manual` at priority 100 (green, 40 %) until `end()`. */
function holdManually(locks: TestDaemon['daemon']['context']['locks'], bulb: Bulb): { end(): void } {
  let end!: () => void
  const ended = new Promise<void>((resolve) => (end = resolve))
  const locker = locks.newLocker('bath_bulb', bulb, { priority: 100 }, 'manual:bath_bulb')
  void locker.promise(function* (held, context) {
    yield held.setState({ on: true, color: 'green', brightness: 40 }, { holder: 'manual', token: context.token })
    yield ended
  })
  return { end }
}
