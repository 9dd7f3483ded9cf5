/** Ready-to-save device files (`devices/<id>.yaml`) for what `genlock discover`, `sim` and `hue pair` find. */

/** A device id from a name: lower case, letters, digits and `_` only. */
export function deviceId(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '') || 'bulb'
  )
}

/** Kasa bulb models by what they can do; unknown models are treated as dimmable white. */
function kasaCapabilities(model: string): string {
  if (/LB130|KL130|KL125|KL135|LB230|KL430/i.test(model))
    return 'capabilities: { dimmable: true, color: true, colorTemp: { min: 2500, max: 9000 } }'
  if (/LB120|KL120/i.test(model))
    return 'capabilities: { dimmable: true, color: false, colorTemp: { min: 2700, max: 6500 } }'
  return 'capabilities: { dimmable: true, color: false }'
}

/** A Kasa bulb file; a KLAP bulb's account is read from `${KASA_USERNAME}`/`${KASA_PASSWORD}`, never written. */
export function kasaDeviceYaml(bulb: {
  alias: string
  model: string
  host: string
  port: number
  protocol?: 'legacy' | 'klap'
}): string {
  const klap = bulb.protocol === 'klap'
  return [
    `# devices/${deviceId(bulb.alias)}.yaml — ${bulb.model}`,
    `id: ${deviceId(bulb.alias)}`,
    `name: ${JSON.stringify(bulb.alias)}`,
    'adapter: kasa',
    `host: ${bulb.host}`,
    ...(klap
      ? [
          'protocol: klap',
          ...(bulb.port === 80 ? [] : [`httpPort: ${bulb.port}`]),
          'username: ${KASA_USERNAME}',
          'password: ${KASA_PASSWORD}',
        ]
      : bulb.port === 9999
        ? []
        : [`port: ${bulb.port}`]),
    kasaCapabilities(bulb.model),
  ].join('\n')
}

/** A Hue light file; the username is read from `${envVar}`, never written into the file. */
export function hueDeviceYaml(light: {
  id: string
  name: string
  host: string
  port?: number
  light: string
  insecure: boolean
  /** A CA file to trust instead of the Hue bridge root CA (the simulator's). */
  ca?: string
  envVar: string
  color: boolean
  gamut?: string
  /** The lamp's white range in kelvin, when the bridge reported it. */
  white?: { min: number; max: number }
}): string {
  const white = light.white ?? (light.color ? { min: 2000, max: 6500 } : { min: 2200, max: 6500 })
  const colorTemp = `colorTemp: { min: ${white.min}, max: ${white.max} }`
  return [
    `# devices/${light.id}.yaml`,
    `id: ${light.id}`,
    `name: ${JSON.stringify(light.name)}`,
    'adapter: hue',
    `host: ${light.host}`,
    ...(light.port === undefined ? [] : [`port: ${light.port}`]),
    `username: \${${light.envVar}}`,
    `light: ${light.light}`,
    ...(light.insecure ? ['insecure: true'] : []),
    ...(light.ca ? [`ca: ${JSON.stringify(light.ca)}`] : []),
    ...(light.color && light.gamut ? [`gamut: ${light.gamut}`] : []),
    `capabilities: { dimmable: true, color: ${light.color}, ${colorTemp} }`,
  ].join('\n')
}

export function mqttDeviceYaml(light: { id: string; topic: string }): string {
  return [`# devices/${light.id}.yaml`, `id: ${light.id}`, 'adapter: mqtt', `topic: ${light.topic}`].join('\n')
}
