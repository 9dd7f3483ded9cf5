import { describe, expect, it } from 'vitest'
import { formatStatus } from '../../src/cli/status.js'

describe('genlock status', () => {
  const now = Date.parse('2026-12-01T08:00:00Z')
  const device = (holder: string | null, until?: string) => ({
    id: 'bath_bulb',
    adapter: 'sim',
    state: { on: true, brightness: 30, colorTemp: 2700, reachable: true },
    holder,
    ...(until ? { hold: { until, remaining_s: 0 } } : {}),
  })
  const heldBy = (text: string) => text.split('\n').find((line) => line.startsWith('bath_bulb'))!

  it("shows a person's manual hold with the time it has left", () => {
    const state = { status: 'online', devices: [device('manual', '2026-12-01T08:12:00Z')], automations: [] }
    expect(heldBy(formatStatus(state, 'mqtt://x', 'genlock', now))).toMatch(/manual \(12m left\)\s*$/)
  })

  it('shows a hold waiting behind a higher holder, and plain holders as they are', () => {
    const waiting = { status: 'online', devices: [device('alarm', '2026-12-01T08:00:45Z')], automations: [] }
    expect(heldBy(formatStatus(waiting, 'mqtt://x', 'genlock', now))).toMatch(/alarm \(manual hold: 45s left\)\s*$/)
    const plain = { status: 'online', devices: [device('party')], automations: [] }
    expect(heldBy(formatStatus(plain, 'mqtt://x', 'genlock', now))).toMatch(/party\s*$/)
  })
})
