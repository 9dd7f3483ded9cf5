import { describe, expect, it } from 'vitest'
import { discoveryTopic, entityIds, lightTopics, sanitizeId } from '../../src/homeassistant/index.js'

describe('Home Assistant ids and topics', () => {
  it('keeps ids that are already [a-zA-Z0-9_-] as they are', () => {
    expect(sanitizeId('bath_bulb-2')).toBe('bath_bulb-2')
  })

  it('replaces anything else, and tells apart ids that sanitise alike', () => {
    const slash = sanitizeId('home/genlock')
    const dot = sanitizeId('home.genlock')
    expect(slash).toMatch(/^home_genlock_[0-9a-f]{6}$/)
    expect(dot).toMatch(/^home_genlock_[0-9a-f]{6}$/)
    expect(slash).not.toBe(dot)
    expect(sanitizeId('home_genlock')).toBe('home_genlock')
    expect(sanitizeId('')).toMatch(/^[0-9a-f]{6}$/)
    expect(sanitizeId('💡 bulb')).toMatch(/^[a-zA-Z0-9_-]+$/)
  })

  it('builds object ids, unique ids and discovery topics only from safe characters', () => {
    const { objectId, uniqueId } = entityIds('home/genlock #1', 'light', 'bath_bulb')
    expect(objectId).toMatch(/^[a-zA-Z0-9_-]+$/)
    expect(uniqueId).toBe(`genlock_${objectId}`)
    expect(discoveryTopic('homeassistant', 'light', objectId)).toBe(`homeassistant/light/${objectId}/config`)
    expect(discoveryTopic('ha', 'automation_switch', 'x')).toBe('ha/switch/x/config')
    expect(discoveryTopic('ha', 'holder', 'x')).toBe('ha/sensor/x/config')
  })

  it('keeps two genlock instances on one broker apart', () => {
    expect(entityIds('genlock', 'light', 'bath_bulb').uniqueId).not.toBe(
      entityIds('upstairs', 'light', 'bath_bulb').uniqueId,
    )
  })

  it("puts a light's topics under the device's state topic", () => {
    expect(lightTopics('genlock', 'bath_bulb')).toEqual({
      state: 'genlock/device/bath_bulb/light',
      command: 'genlock/device/bath_bulb/light/set',
      attributes: 'genlock/device/bath_bulb/light/attributes',
    })
  })
})
