/**
 * The editor schemas (schemas/*.schema.json): generated from the zod schemas and committed, complete (a
 * description and examples on every field), accepted by a real JSON Schema validator (ajv), and faithful to
 * `genlock validate`: every shipped example passes both, and a broken file that genlock rejects is rejected by
 * the schema too, unless the rule is one a JSON Schema cannot say (the last table names those).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { Ajv, type ValidateFunction } from 'ajv'
import { afterAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { ADDON_SCHEMA_NAMES, buildSchemas, schemaText, SCHEMA_NAMES, type SchemaName } from '../../scripts/json-schemas.js'
import { parseAutomationFile } from '../../src/automation/parse.js'
import { isLoopbackHost, LOOPBACK_PATTERN, loadConfig } from '../../src/config/config.js'
import { ConfigError } from '../../src/config/problems.js'
import { readDeviceFile } from '../../src/devices/device-files.js'

const ROOT = resolve(import.meta.dirname, '../..')
const built = buildSchemas()

// Strict, so a keyword ajv does not know or a type-less keyword fails here; but `anyOf: [{ required: [a] }, ...]`
// ("one of these keys") is the usual idiom, so `required` may name keys defined beside it.
const ajv = new Ajv({ strict: true, strictRequired: false, allErrors: true, allowUnionTypes: true })
const validators = Object.fromEntries(SCHEMA_NAMES.map((name) => [name, ajv.compile(built[name])])) as Record<
  SchemaName,
  ValidateFunction
>

/** What the schema says of a YAML text, as an editor would read it (no `${VAR}` filled in). */
function schemaErrors(kind: SchemaName, text: string): string[] {
  const validate = validators[kind]
  return validate(parse(text) ?? {}) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`)
}

const work = mkdtempSync(join(tmpdir(), 'genlock-schemas-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

/** What `genlock validate` says of one file of `kind` (with the shipped devices known to automations). */
function genlockProblems(kind: SchemaName, text: string): string[] {
  try {
    if (kind === 'automation') parseAutomationFile('a.yaml', new Set(['bath_bulb', 'hall_bulb', 'kitchen_strip']), text)
    if (kind === 'device') readDeviceFile('d.yaml', text, {})
    if (kind === 'config') {
      const dir = mkdtempSync(join(work, 'config-'))
      for (const sub of ['devices', 'automations']) mkdirSync(join(dir, sub))
      writeFileSync(join(dir, 'config.yaml'), text)
      loadConfig(join(dir, 'config.yaml'), {})
    }
    return []
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    return error.problems.map((problem) => `${problem.field}: ${problem.message}`)
  }
}

/** What says which values a field takes; a field with none of them accepts anything. */
const SHAPE_KEYWORDS = ['type', 'anyOf', 'oneOf', 'allOf', 'enum', 'const', '$ref']
/** The one field that does take any value: a publish step's payload (text, or any map or list, sent as JSON). */
const ANY_VALUE = /\/properties\/publish\/properties\/payload$/

describe('the committed schemas', () => {
  it.each(SCHEMA_NAMES)('schemas/%s.schema.json is what `npm run schemas` makes of the zod schemas', (name) => {
    expect(readFileSync(join(ROOT, 'schemas', `${name}.schema.json`), 'utf8')).toBe(schemaText(built[name]))
    // The add-on's seed carries the same schemas, for the first lines of the files it seeds /config with.
    const seeded = join(ROOT, 'deploy', 'homeassistant', 'genlock', 'seed', 'schemas', `${name}.schema.json`)
    if ((ADDON_SCHEMA_NAMES as readonly string[]).includes(name))
      expect(readFileSync(seeded, 'utf8')).toBe(schemaText(built[name]))
    else expect(existsSync(seeded)).toBe(false)
  })

  it.each(SCHEMA_NAMES)('%s: every field has a description, examples and a type or forms (none is an empty {})', (name) => {
    const missing: string[] = []
    const visit = (node: unknown, path: string): void => {
      if (Array.isArray(node)) return node.forEach((item, i) => visit(item, `${path}/${i}`))
      if (node === null || typeof node !== 'object') return
      const schema = node as Record<string, unknown>
      // Fields are the properties of an object a user writes; a type-less schema's `properties` are a constraint
      // (`if`, `then`, a branch of a rule such as mqtt's url-or-embedded) on fields described elsewhere.
      const fields = schema.type === 'object' ? ((schema.properties ?? {}) as Record<string, unknown>) : {}
      for (const [key, field] of Object.entries(fields)) {
        if (typeof field !== 'object' || field === null) continue // `false`: a key that must not be there
        const at = `${path}/properties/${key}`
        if (Object.keys(field).length === 0) missing.push(`${at}: {}`)
        else if ('$ref' in field) continue // described where it is defined
        else if (!('description' in field) || !('examples' in field)) missing.push(`${at}: description or examples`)
        // A transform without a JSON form in its .meta() comes out as a description over "anything goes".
        else if (!SHAPE_KEYWORDS.some((keyword) => keyword in field) && !ANY_VALUE.test(at))
          missing.push(`${at}: no type, forms or reference`)
      }
      for (const [key, child] of Object.entries(schema)) {
        if (key !== 'examples' && key !== 'default' && key !== 'const' && key !== 'enum') visit(child, `${path}/${key}`)
      }
    }
    visit(built[name], '#')
    expect(missing).toEqual([])
  })

  it('say every step kind, trigger kind and on_preempt form', () => {
    const automation = built.automation as {
      definitions: Record<string, { anyOf: { properties?: Record<string, unknown> }[] }>
      properties: Record<string, { anyOf: unknown[] }>
    }
    const keys = (name: string) => automation.definitions[name]!.anyOf.map((form) => Object.keys(form.properties!)[0])
    expect(keys('step')).toEqual(['set', 'wait', 'repeat', 'wait_for', 'if', 'choose', 'parallel', 'publish', 'log'])
    expect(keys('trigger')).toEqual(['mqtt', 'at', 'cron', 'sun', 'state'])
    expect(automation.properties.on_preempt!.anyOf).toHaveLength(2)
  })

  it('LOOPBACK_PATTERN says what isLoopbackHost says, so the schema asks for logins when genlock does', () => {
    const pattern = new RegExp(LOOPBACK_PATTERN)
    for (const host of [
      '127.0.0.1',
      '127.1.2.3',
      'localhost',
      'LocalHost',
      '::1',
      '[::1]',
      '0.0.0.0',
      '::',
      'pi.local',
      '192.168.1.2',
      '[::1',
      '128.0.0.1',
    ]) {
      expect(pattern.test(host), host).toBe(isLoopbackHost(host))
    }
  })
})

/** The example files genlock ships, each with the schema that describes it. */
function shippedExamples(): { file: string; kind: SchemaName; inConfigFolder: string }[] {
  const yamlIn = (dir: string) =>
    readdirSync(join(ROOT, dir))
      .filter((name) => name.endsWith('.yaml'))
      .map((name) => join(dir, name))
  const seed = 'deploy/homeassistant/genlock/seed'
  return [
    { file: 'config.example.yaml', kind: 'config' as const, inConfigFolder: 'config.yaml' },
    { file: 'deploy/docker/config.yaml', kind: 'config' as const, inConfigFolder: 'config.yaml' },
    ...[...yamlIn('devices'), ...yamlIn(`${seed}/devices`)].map((file) => ({
      file,
      kind: 'device' as const,
      inConfigFolder: `devices/${file.split('/').pop()}`,
    })),
    ...[...yamlIn('automations'), ...yamlIn(`${seed}/automations`)].map((file) => ({
      file,
      kind: 'automation' as const,
      inConfigFolder: `automations/${file.split('/').pop()}`,
    })),
  ]
}

describe('the shipped examples', () => {
  const examples = shippedExamples()

  it('are all here', () => {
    expect(examples.length).toBeGreaterThanOrEqual(14)
  })

  it.each(examples)('$file passes its schema and genlock validate', ({ file, kind }) => {
    const text = readFileSync(join(ROOT, file), 'utf8')
    expect(schemaErrors(kind, text)).toEqual([])
    expect(genlockProblems(kind, text)).toEqual([])
  })

  it.each(examples)(
    '$file names its schema on its first line, by a path that holds in a config folder',
    ({ file, kind, inConfigFolder }) => {
      const first = readFileSync(join(ROOT, file), 'utf8').split('\n')[0]!
      const match = /^# yaml-language-server: \$schema=(\S+)$/.exec(first)
      expect(match, first).not.toBeNull()
      // In a config folder laid out as genlock's: config.yaml, schemas/, devices/, automations/ side by side.
      expect(join(dirname(inConfigFolder), match![1]!)).toBe(`schemas/${kind}.schema.json`)
      // The repository's root is such a folder for its own examples.
      if (!file.startsWith('deploy/'))
        expect(relative(ROOT, resolve(ROOT, dirname(file), match![1]!))).toBe(`schemas/${kind}.schema.json`)
    },
  )
})

/**
 * Unusual files genlock accepts, which the schema must accept too: an editor that underlines a good file is worse
 * than none. Each row is a form one of the transforms reads that a too-narrow JSON form would miss.
 */
const GOOD: readonly { kind: SchemaName; form: string; text: string }[] = [
  { kind: 'config', form: 'no keys at all', text: '{}\n' },
  { kind: 'config', form: 'an mqtts url with a login', text: 'mqtt: { url: "mqtts://h:8883", username: u, password: p, client_id: g }\n' },
  { kind: 'config', form: 'the embedded broker on LOCALHOST without logins', text: 'mqtt: { embedded: true, host: LOCALHOST }\n' },
  { kind: 'config', form: 'the embedded broker on [::1] without logins', text: 'mqtt: { embedded: true, host: "[::1]" }\n' },
  { kind: 'config', form: 'the embedded broker on 0.0.0.0 with logins', text: 'mqtt: { embedded: true, host: 0.0.0.0, username: g, password: p }\n' },
  { kind: 'config', form: 'url with embedded: false', text: 'mqtt: { url: "mqtt://h:1883", embedded: false }\n' },
  { kind: 'config', form: 'redis locks with the default prefix', text: 'locks: { backend: redis, url: "redis://r:6379" }\n' },
  { kind: 'config', form: 'http beyond loopback behind an ingress proxy', text: 'http: { host: 0.0.0.0, ingress_proxy: 172.30.32.2 }\n' },
  { kind: 'config', form: 'log pretty: true', text: 'log: { pretty: true }\n' },
  { kind: 'device', form: 'a hue light by an upper-case uuid', text: 'id: b\nadapter: hue\nhost: h\nusername: k\nlight: 6F0C9A2E-3B1D-4C5E-9F7A-1B2C3D4E5F60\n' },
  { kind: 'device', form: 'a hue light number as text', text: 'id: b\nadapter: hue\nhost: h\nusername: k\nlight: "3"\n' },
  ...['off', 'false', '0', '100', '1m', '"00:00:05"', '1.5s'].map((poll) => ({
    kind: 'device' as const,
    form: `kasa poll: ${poll}`,
    text: `id: b\nadapter: kasa\nhost: h\npoll: ${poll}\n`,
  })),
  { kind: 'device', form: 'an mqtt light with the tasmota preset', text: 'id: b\nadapter: mqtt\ntopic: tasmota_bulb\npreset: tasmota\n' },
  ...[
    ['trigger: null', 'trigger:\n'],
    ['trigger: one map, not a list', 'trigger: { mqtt: home/a }\n'],
    ['trigger: an empty list', 'trigger: []\n'],
    ['a topic of wildcards', 'trigger: [{ mqtt: "+/a/#" }, { mqtt: "#" }]\n'],
    ['payload: a number and a boolean', 'trigger: [{ mqtt: home/a, payload: 1 }, { mqtt: home/b, payload: true }]\n'],
    ['at: several times, with blanks and one digit hours', 'trigger: { at: [" 7:00 ", "19:30:15"] }\n'],
    ['cron: six fields, and a nickname', 'trigger: [{ cron: "0 0 7 * * *" }, { cron: "@daily" }]\n'],
    ['sun: every offset form', 'trigger: [{ sun: sunset, offset: "- 30m" }, { sun: dawn, offset: "-00:45" }, { sun: dusk, offset: { minutes: -45 } }, { sun: solar_noon, offset: -60000 }]\n'],
    ['state: to a list, from a boolean, any case', 'trigger: { state: { device: hall_bulb, to: [ON, Unavailable], from: false } }\n'],
    ['a condition: a list of an expression and a window', 'trigger: { mqtt: home/a, condition: ["now.hour > 6", [{ weekday: Saturday }]] }\n'],
    ['a time window with weekday list in any case', 'trigger: { mqtt: home/a, condition: { after: "22:00", weekday: [SAT, sunday] } }\n'],
    ['on_preempt: replace', 'on_preempt: { replace: night_light }\n'],
  ].map(([form, text]) => ({
    kind: 'automation' as const,
    form: form!,
    text: `name: a\ndevices: bath_bulb\n${text}steps: [{ wait: 1s }]\n`,
  })),
  ...[
    ['every duration form', '[{ wait: 500ms }, { wait: " 1.5s " }, { wait: 2h }, { wait: "00:05" }, { wait: "00:00:05.5" }, { wait: { days: 1, minutes: 2.5 } }, { wait: 0 }]'],
    ['colours in every form and case', '[{ set: { color: Red } }, { set: { color: " orange " } }, { set: { color: "#FFF" } }, { set: { color: ff8800 } }, { set: { color: "rgb(1, 2, 3)" } }, { set: { color: { h: 30, s: 100, v: 100 } } }, { set: { color: { kelvin: 2700 } } }]'],
    ['templates where values go', '[{ set: { on: "{{ true }}", brightness: "{{ 5 * 2 }}", color_temp: "{{ 2700 }}", transition: "{{ 1000 }}" } }]'],
    ['if with empty then and a null else', '[{ if: "true", then: [], else: null }]'],
    ['choose with a null default', '[{ choose: [{ when: "true", steps: [{ wait: 1s }] }], default: null }]'],
    ['repeat while, until, a templated count', '[{ repeat: { while: "true", steps: [{ wait: 1s }] } }, { repeat: { count: "{{ 2 }}", steps: [{ wait: 1s }] } }]'],
    ['wait_for a condition alone', '[{ wait_for: { condition: "device.bath_bulb.on", timeout: 1m, on_timeout: abort } }]'],
    ['publish a map payload, qos 1, retained', '[{ publish: { topic: "home/{{ trigger.topic }}", payload: { a: [1, "{{ 2 }}"] }, qos: 1, retain: true } }]'],
    ['log as text and as a map', '[{ log: hello }, { log: { message: hi, level: debug } }]'],
    ['parallel with a list of devices', '[{ parallel: [{ device: [bath_bulb], steps: [{ set: { on: true } }] }] }]'],
  ].map(([form, steps]) => ({
    kind: 'automation' as const,
    form: `steps: ${form!}`,
    text: `name: a\ndevices: bath_bulb\nsteps: ${steps!}\n`,
  })),
]

describe('a file genlock accepts, the schema accepts too', () => {
  it.each(GOOD)('$kind: $form', ({ kind, text }) => {
    expect(genlockProblems(kind, text)).toEqual([])
    expect(schemaErrors(kind, text)).toEqual([])
  })
})

/** Broken files `genlock validate` rejects, which the schema rejects too (an editor underlines them). */
const BROKEN: readonly { kind: SchemaName; rule: string; text: string }[] = [
  // config.yaml
  { kind: 'config', rule: 'an unknown key', text: 'colour: red\n' },
  { kind: 'config', rule: 'mqtt: both url and embedded', text: 'mqtt: { url: "mqtt://h:1883", embedded: true }\n' },
  { kind: 'config', rule: 'mqtt: neither url nor embedded', text: 'mqtt: { port: 1884 }\n' },
  { kind: 'config', rule: 'mqtt: a url that is not mqtt:// or mqtts://', text: 'mqtt: { url: "http://h" }\n' },
  { kind: 'config', rule: 'mqtt: a port out of range', text: 'mqtt: { embedded: true, port: 70000 }\n' },
  {
    kind: 'config',
    rule: "mqtt: the embedded broker's limits with url",
    text: 'mqtt: { url: "mqtt://h:1883", max_queued_messages: 10 }\n',
  },
  {
    kind: 'config',
    rule: 'mqtt: TLS files with an mqtt:// url',
    text: 'mqtt: { url: "mqtt://h:1883", ca: ./ca.pem }\n',
  },
  {
    kind: 'config',
    rule: 'mqtt: TLS files with the embedded broker',
    text: 'mqtt: { embedded: true, ca: ./ca.pem }\n',
  },
  {
    kind: 'config',
    rule: 'mqtt: cert without key',
    text: 'mqtt: { url: "mqtts://h:8883", cert: ./client.pem }\n',
  },
  {
    kind: 'config',
    rule: 'mqtt: the embedded broker beyond loopback without logins',
    text: 'mqtt: { embedded: true, host: 0.0.0.0 }\n',
  },
  {
    kind: 'config',
    rule: "mqtt: users without genlock's own login",
    text: 'mqtt:\n  embedded: true\n  users: [{ username: ha, password_hash: "x" }]\n',
  },
  {
    kind: 'config',
    rule: 'mqtt: a base_topic with a wildcard',
    text: 'mqtt: { embedded: true, base_topic: "home/#" }\n',
  },
  { kind: 'config', rule: 'mqtt: a base_topic ending in /', text: 'mqtt: { embedded: true, base_topic: "home/" }\n' },
  { kind: 'config', rule: 'locks: an unknown backend', text: 'locks: { backend: etcd }\n' },
  { kind: 'config', rule: 'locks: redis without url', text: 'locks: { backend: redis }\n' },
  { kind: 'config', rule: 'homeassistant: a prefix starting with /', text: 'homeassistant: { prefix: /ha }\n' },
  { kind: 'config', rule: 'location: a latitude beyond 90', text: 'location: { latitude: 100, longitude: 0 }\n' },
  { kind: 'config', rule: 'http: beyond loopback without a token', text: 'http: { host: 0.0.0.0 }\n' },
  { kind: 'config', rule: 'http: a token shorter than 16 characters', text: 'http: { token: short }\n' },
  { kind: 'config', rule: 'log: an unknown level', text: 'log: { level: verbose }\n' },
  // devices/<id>.yaml
  { kind: 'device', rule: 'no id', text: 'adapter: sim\n' },
  { kind: 'device', rule: 'an id with a space', text: 'id: bath bulb\nadapter: sim\n' },
  { kind: 'device', rule: 'an unknown adapter', text: 'id: b\nadapter: zigbee\n' },
  { kind: 'device', rule: "another adapter's field", text: 'id: b\nadapter: sim\nhost: 10.0.0.2\n' },
  { kind: 'device', rule: 'hue: no username', text: 'id: b\nadapter: hue\nhost: 10.0.0.2\nlight: 3\n' },
  {
    kind: 'device',
    rule: 'hue: a light that is no number or uuid',
    text: 'id: b\nadapter: hue\nhost: h\nusername: k\nlight: lamp\n',
  },
  {
    kind: 'device',
    rule: 'hue: a relative ca path',
    text: 'id: b\nadapter: hue\nhost: h\nusername: k\nlight: 3\nca: ca.pem\n',
  },
  { kind: 'device', rule: 'kasa: no host', text: 'id: b\nadapter: kasa\n' },
  {
    kind: 'device',
    rule: 'kasa: a poll that is no duration',
    text: 'id: b\nadapter: kasa\nhost: h\npoll: 2 seconds\n',
  },
  { kind: 'device', rule: 'kasa: a poll of 50 (ms)', text: 'id: b\nadapter: kasa\nhost: h\npoll: 50\n' },
  { kind: 'device', rule: 'kasa: a poll as a map', text: 'id: b\nadapter: kasa\nhost: h\npoll: { minutes: 1 }\n' },
  { kind: 'device', rule: 'mqtt: a topic with a wildcard', text: 'id: b\nadapter: mqtt\ntopic: "zigbee2mqtt/#"\n' },
  { kind: 'device', rule: 'mqtt: a topic ending in /', text: 'id: b\nadapter: mqtt\ntopic: zigbee2mqtt/\n' },
  {
    kind: 'device',
    rule: 'capabilities: a colorTemp below 1000 K',
    text: 'id: b\nadapter: sim\ncapabilities: { colorTemp: { min: 500, max: 6500 } }\n',
  },
  { kind: 'device', rule: 'sim: a failureRate above 1', text: 'id: b\nadapter: sim\nfailureRate: 2\n' },
  // automations/<name>.yaml
  ...[
    ['a name with a space', 'name: wake up\ndevices: bath_bulb\nsteps: [{ wait: 1s }]\n'],
    ['no steps', 'name: a\ndevices: bath_bulb\n'],
    ['an empty step list', 'name: a\ndevices: bath_bulb\nsteps: []\n'],
    ['no devices', 'name: a\nsteps: [{ wait: 1s }]\n'],
    ['an unknown top-level key', 'name: a\ndevices: bath_bulb\ntrigers: []\nsteps: [{ wait: 1s }]\n'],
    ['priority as text', 'name: a\ndevices: bath_bulb\npriority: high\nsteps: [{ wait: 1s }]\n'],
    ['an unknown mode', 'name: a\ndevices: bath_bulb\nmode: serial\nsteps: [{ wait: 1s }]\n'],
    ['max 0', 'name: a\ndevices: bath_bulb\nmode: queued\nmax: 0\nsteps: [{ wait: 1s }]\n'],
    ['an unknown on_preempt', 'name: a\ndevices: bath_bulb\non_preempt: pause\nsteps: [{ wait: 1s }]\n'],
    [
      'on_preempt replace without a name',
      'name: a\ndevices: bath_bulb\non_preempt: { replace: 1 }\nsteps: [{ wait: 1s }]\n',
    ],
    ['a lock ttl that is no duration', 'name: a\ndevices: bath_bulb\nlock: { ttl: soon }\nsteps: [{ wait: 1s }]\n'],
  ].map(([rule, text]) => ({ kind: 'automation' as const, rule: rule!, text: text! })),
  // triggers
  ...[
    ['an unknown trigger kind', 'mqq: home/a'],
    ['two kinds in one trigger', '{ mqtt: home/a, at: "07:00" }'],
    ['an unknown field in a trigger', '{ mqtt: home/a, paylod: "ON" }'],
    ['a topic with # inside', 'mqtt: home/#/a'],
    ['a topic with + in a level', 'mqtt: home/a+'],
    ['mqtt for: that is no duration', '{ mqtt: home/a, for: a while }'],
    ['at: a time without quotes-style HH:MM', 'at: 7am'],
    ['at: hour 25', 'at: "25:00"'],
    ['at: an empty list', 'at: []'],
    ['cron: three fields', 'cron: "0 7 *"'],
    ['sun: an unknown event', 'sun: noon'],
    ['sun: an offset that is no duration', '{ sun: sunset, offset: -30 minutes }'],
    ['state: an unknown state', '{ state: { device: hall_bulb, to: dim } }'],
    ['state: for: that is no duration', '{ state: { device: hall_bulb, to: "on", for: long } }'],
    ['a condition: an empty time window', '{ mqtt: home/a, condition: {} }'],
    ['a condition: an unknown weekday', '{ mqtt: home/a, condition: { weekday: funday } }'],
    ['a condition: an empty list', '{ mqtt: home/a, condition: [] }'],
    [
      'a condition: a time window with an unknown field',
      '{ mqtt: home/a, condition: { after: "22:00", until: "06:00" } }',
    ],
    ['a condition that is a number', '{ mqtt: home/a, condition: 3 }'],
  ].map(([rule, trigger]) => ({
    kind: 'automation' as const,
    rule: `trigger: ${rule}`,
    text: `name: a\ndevices: bath_bulb\ntrigger:\n  - ${trigger}\nsteps: [{ wait: 1s }]\n`,
  })),
  {
    kind: 'automation',
    rule: 'stop: catch_up',
    text: 'name: a\ndevices: bath_bulb\nstop: [{ at: "07:00", catch_up: 5m }]\nsteps: [{ wait: 1s }]\n',
  },
  // steps
  ...[
    ['an unknown step', '- sett: { on: true }'],
    ['two kinds in one step', '- { wait: 1s, log: hi }'],
    ['a step that is no map', '- wait'],
    ['set: an unknown field', '- set: { colour: red }'],
    ['set: only a device', '- set: { device: bath_bulb }'],
    ['set: brightness above 100', '- set: { brightness: 150 }'],
    ['set: on as text', '- set: { on: yes }'],
    ['set: an unknown colour name', '- set: { color: redd }'],
    ['set: a colour channel above 255', '- set: { color: { r: 300, g: 0, b: 0 } }'],
    ['set: a colour map of unknown fields', '- set: { color: { red: 255 } }'],
    ['set: a transition that is no duration', '- set: { on: true, transition: 5 sec }'],
    ['wait: text that is no duration', '- wait: 5 sec'],
    ['wait: a negative number', '- wait: -5'],
    ['wait: minutes beyond 59 in HH:MM:SS', '- wait: "00:99:00"'],
    ['wait: a map with an unknown unit', '- wait: { weeks: 1 }'],
    ['repeat: count and forever', '- repeat: { count: 2, forever: true, steps: [{ wait: 1s }] }'],
    ['repeat: none of count, while, until, forever', '- repeat: { steps: [{ wait: 1s }] }'],
    ['repeat: forever: false', '- repeat: { forever: false, steps: [{ wait: 1s }] }'],
    ['repeat: no steps', '- repeat: { count: 2 }'],
    ['wait_for: neither mqtt nor condition', '- wait_for: { timeout: 1m }'],
    ['wait_for: payload without mqtt', '- wait_for: { condition: "true", payload: "ON" }'],
    ['wait_for: an unknown on_timeout', '- wait_for: { mqtt: home/a, on_timeout: retry }'],
    ['if: without then', '- if: "true"'],
    ['if: then that is no list', '- { if: "true", then: { wait: 1s } }'],
    ['if: an unknown step in then', '- { if: "true", then: [{ sleep: 1s }] }'],
    ['choose: an empty list', '- choose: []'],
    ['choose: an option without when', '- choose: [{ steps: [{ wait: 1s }] }]'],
    [
      'choose: a bad step in default',
      '- { choose: [{ when: "true", steps: [{ wait: 1s }] }], default: [{ wait: soon }] }',
    ],
    ['parallel: a branch without steps', '- parallel: [{ device: bath_bulb }]'],
    ['publish: a topic with a wildcard', '- publish: { topic: home/+, payload: x }'],
    ['publish: qos 2', '- publish: { topic: home/a, qos: 2 }'],
    ['log: an unknown level', '- log: { message: hi, level: verbose }'],
    ['a nested step (repeat) that is wrong', '- repeat: { count: 2, steps: [{ set: { brightness: 101 } }] }'],
  ].map(([rule, step]) => ({
    kind: 'automation' as const,
    rule: `steps: ${rule}`,
    text: `name: a\ndevices: bath_bulb\nsteps:\n  ${step}\n`,
  })),
]

describe('a broken file genlock rejects, the schema rejects too', () => {
  it.each(BROKEN)('$kind: $rule', ({ kind, text }) => {
    expect(genlockProblems(kind, text)).not.toEqual([])
    expect(schemaErrors(kind, text)).not.toEqual([])
  })
})

/**
 * What only `genlock validate` finds: rules about other files, the file system, the environment, or the insides of
 * an expression, cron pattern or colour function, and comparisons between two values. Each row is a file genlock
 * rejects and the schema lets through; if the schema learns to say one, move the row up. Besides these, the
 * rules that need every file at once (test/automation/link.test.ts, test/devices/device-files.test.ts): an
 * automation name or device id used twice, an `on_preempt: { replace }` naming no automation, expressions reading
 * `device.<id>` of a device that has no file.
 */
const BEYOND_A_SCHEMA: readonly { kind: SchemaName; rule: string; text: string }[] = [
  { kind: 'config', rule: 'the devices folder must exist (file system)', text: 'devices: ./no-such-folder\n' },
  {
    kind: 'config',
    rule: 'TLS files must exist (file system)',
    text: 'mqtt: { url: "mqtts://h:8883", ca: ./no-ca.pem }\n',
  },
  { kind: 'config', rule: "an IANA time zone (the runtime's list)", text: 'timezone: Mars/Olympus\n' },
  {
    kind: 'config',
    rule: 'a password_hash in the scrypt format',
    text: 'mqtt:\n  embedded: true\n  username: g\n  password: p\n  users: [{ username: ha, password_hash: plain }]\n',
  },
  {
    kind: 'config',
    rule: 'mqtt.users: each username once',
    text:
      'mqtt:\n  embedded: true\n  username: g\n  password: p\n  users:\n' +
      '    - { username: ha, password_hash: "$scrypt$ln=14,r=8,p=1$c2FsdA$aGFzaA" }\n' +
      '    - { username: ha, password_hash: "$scrypt$ln=14,r=8,p=2$c2FsdA$aGFzaA" }\n',
  },
  { kind: 'config', rule: 'http.ingress_proxy: an IP address', text: 'http: { ingress_proxy: ha.local }\n' },
  { kind: 'config', rule: '${VAR} must be set (the environment)', text: 'data_dir: ${NO_SUCH_VARIABLE}\n' },
  {
    kind: 'device',
    rule: 'colorTemp: min below max (two values compared)',
    text: 'id: b\nadapter: sim\ncapabilities: { colorTemp: { min: 6500, max: 2700 } }\n',
  },
  {
    kind: 'device',
    rule: 'kasa: a poll below 100ms written as text',
    text: 'id: b\nadapter: kasa\nhost: h\npoll: 50ms\n',
  },
  {
    kind: 'automation',
    rule: 'devices: a device file must exist (another file)',
    text: 'name: a\ndevices: no_such_bulb\nsteps: [{ wait: 1s }]\n',
  },
  {
    kind: 'automation',
    rule: "set: a device among the automation's devices (two values compared)",
    text: 'name: a\ndevices: bath_bulb\nsteps: [{ set: { device: hall_bulb, on: true } }]\n',
  },
  {
    kind: 'automation',
    rule: 'a condition must be a jexl expression (its syntax)',
    text: 'name: a\ndevices: bath_bulb\nsteps: [{ if: "a ===", then: [] }]\n',
  },
  {
    kind: 'automation',
    rule: 'a {{ template }} must parse (its syntax)',
    text: 'name: a\ndevices: bath_bulb\nsteps: [{ log: "{{ a === }}" }]\n',
  },
  {
    kind: 'automation',
    rule: 'cron: each field in range',
    text: 'name: a\ndevices: bath_bulb\ntrigger: { cron: "61 7 * * *" }\nsteps: [{ wait: 1s }]\n',
  },
  {
    kind: 'automation',
    rule: 'a CSS colour function must parse',
    text: 'name: a\ndevices: bath_bulb\nsteps: [{ set: { color: "rgb(nope)" } }]\n',
  },
  {
    kind: 'automation',
    rule: 'a duration written as text at most 596h',
    text: 'name: a\ndevices: bath_bulb\nsteps: [{ wait: 600h }]\n',
  },
]

describe('rules only genlock validate can check', () => {
  it.each(BEYOND_A_SCHEMA)('$kind: $rule', ({ kind, text }) => {
    expect(genlockProblems(kind, text)).not.toEqual([])
    expect(schemaErrors(kind, text)).toEqual([])
  })
})
