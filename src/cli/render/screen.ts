import { stripVTControlCharacters } from 'node:util'
import type { Rgb } from '../../devices/bulb.js'
import { kelvinToRgb, toHex } from '../../devices/color.js'
import { background, bold, dim, foreground, type ColorMode } from './colors.js'

/** One bulb as the simulator shows it. */
export interface BulbView {
  readonly id: string
  readonly name: string
  readonly on: boolean
  /** 0–100 %. */
  readonly brightness: number
  readonly color?: Rgb
  readonly colorTemp?: number
  /** The automation holding the bulb's lock, if any. */
  readonly holder?: string
}

/** One automation as the simulator shows it, with the keys that fire its trigger and its stop. */
export interface AutomationView {
  readonly name: string
  readonly priority: number
  /** idle | waiting | running | suspended */
  readonly state: string
  readonly lastError?: string
  readonly triggerKey?: string
  readonly stopKey?: string
}

/** Everything one frame of `genlock simulate` shows. */
export interface SimulationView {
  readonly title: string
  readonly broker: string
  /** ms since the simulation started (on its clock). */
  readonly elapsedMs: number
  /** The simulation's time of day as the config's time zone shows it, e.g. `thu 2026-12-24 06:55:03`. */
  readonly clock?: string
  /** How many times faster than real time the clock runs (shown when it is not 1). */
  readonly speed?: number
  readonly bulbs: readonly BulbView[]
  readonly automations: readonly AutomationView[]
  /** The latest timeline lines, oldest first. */
  readonly recent: readonly string[]
  /** What the user is typing after `:`, when they are. */
  readonly prompt?: string
}

/** The terminal's size in characters. */
export interface ScreenSize {
  readonly columns: number
  readonly rows: number
}

/** The colour a bulb shows (its colour, or its white as RGB, or plain white), before brightness. */
export function bulbRgb(bulb: Pick<BulbView, 'color' | 'colorTemp'>): Rgb {
  if (bulb.color) return bulb.color
  if (bulb.colorTemp !== undefined) return kelvinToRgb(bulb.colorTemp)
  return { r: 255, g: 255, b: 255 }
}

/** What the lamp looks like: its colour dimmed with brightness (kept visible down to 1 %), black when off. */
export function litRgb(bulb: BulbView): Rgb {
  if (!bulb.on) return { r: 0, g: 0, b: 0 }
  const rgb = bulbRgb(bulb)
  const scale = 0.25 + 0.75 * (Math.max(0, Math.min(100, bulb.brightness)) / 100)
  return { r: Math.round(rgb.r * scale), g: Math.round(rgb.g * scale), b: Math.round(rgb.b * scale) }
}

const STATE_MARK: Record<string, string> = { idle: ' ', waiting: '…', running: '▶', suspended: '⏸' }

function cell(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width)
}

/**
 * One frame of `genlock simulate` as text, fitted to `size`: never more lines than rows nor a line wider than
 * columns, so nothing scrolls. The title, the clock and the bulbs come first, then the automations, then the prompt
 * line; the latest events get the rows left over. A swatch per bulb (true colour, 256 or 16 colours, or none —
 * then the hex code says it), brightness, power, holder; the automations with their state and keys.
 * Pure: the same view, mode and size give the same string.
 */
export function renderScreen(
  view: SimulationView,
  mode: ColorMode,
  size: ScreenSize = { columns: Infinity, rows: Infinity },
): string {
  const status = [
    ...(view.clock ? [view.clock] : []),
    ...(view.speed !== undefined && view.speed !== 1 ? [`×${view.speed}`] : []),
    `${(view.elapsedMs / 1000).toFixed(1)}s`,
    `broker ${view.broker}`,
  ].join(' · ')
  const top = [bold(`genlock simulate — ${view.title}`, mode), dim(status, mode)]
  const bulbs = view.bulbs.map((bulb) => bulbLine(bulb, view.bulbs, mode))
  const nameWidth = Math.max(10, ...view.automations.map((automation) => automation.name.length))
  const automations = view.automations.map((automation) => automationLine(automation, nameWidth, mode))
  const bottom =
    view.prompt === undefined
      ? dim('keys: a fires, A stops · : types a command · q quits', mode)
      : `:${view.prompt}█  ${dim('(trigger|stop <name>, publish <topic> <payload>, set <device> <state>, advance 10m, quit; Esc cancels)', mode)}`

  // Rows left once the title, the status and the prompt line are drawn. Each section takes what it needs, in
  // order (a long list cut with "… n more"; the latest events kept); blank lines between only when all fits.
  let left = size.rows - top.length - 1
  const wanted = 3 * 2 + bulbs.length + automations.length + 2
  const gap = left >= wanted ? [''] : []
  const section = (title: string, lines: readonly string[], keepNewest = false): string[] => {
    const head = [...gap, bold(title, mode)]
    if (left < head.length + Math.min(1, lines.length)) return []
    left -= head.length
    let shown = [...lines]
    if (shown.length > left) {
      if (keepNewest) shown = shown.slice(shown.length - left)
      else {
        shown = shown.slice(0, left - 1)
        shown.push(dim(`  … ${lines.length - shown.length} more`, mode))
      }
    }
    left -= shown.length
    return [...head, ...shown]
  }
  const body = [
    ...section('BULBS', bulbs),
    ...section('AUTOMATIONS', automations),
    ...section(
      'RECENT',
      view.recent.map((line) => `  ${line}`),
      true,
    ),
  ]
  const lines = [...top, ...body, ...(gap.length > 0 && left >= 1 ? [''] : []), bottom].slice(0, size.rows)
  return lines.map((line) => fit(line, size.columns)).join('\n')
}

function bulbLine(bulb: BulbView, all: readonly BulbView[], mode: ColorMode): string {
  const idWidth = Math.max(6, ...all.map((candidate) => candidate.id.length))
  // An off bulb still has a colour set (the next "on" shows it): drawn as a faint pattern, not a solid block.
  const swatch =
    mode === 'none'
      ? bulb.on
        ? '[####]'
        : '[    ]'
      : bulb.on
        ? background(litRgb(bulb), '      ', mode)
        : foreground(bulbRgb(bulb), '░░░░░░', mode)
  const colour = bulb.color ? toHex(bulb.color) : bulb.colorTemp !== undefined ? `${bulb.colorTemp}K` : 'white'
  const power = bulb.on ? 'on ' : 'off'
  const brightness = `${String(Math.round(bulb.brightness)).padStart(3)}%`
  const holder = bulb.holder ? `held by ${bulb.holder}` : dim('free', mode)
  return `  ${swatch} ${cell(bulb.id, idWidth)}  ${power} ${brightness}  ${cell(colour, 7)}  ${holder}`
}

function automationLine(automation: AutomationView, nameWidth: number, mode: ColorMode): string {
  const keys = automation.triggerKey ? `[${automation.triggerKey}/${automation.stopKey ?? ' '}]` : '     '
  const state = `${STATE_MARK[automation.state] ?? '?'} ${automation.state}`
  const error = automation.lastError ? `  last error: ${automation.lastError}` : ''
  const stateText = automation.state === 'idle' ? dim(cell(state, 11), mode) : bold(cell(state, 11), mode)
  return `  ${keys} ${cell(automation.name, nameWidth)}  prio ${String(automation.priority).padEnd(5)} ${stateText}${error}`
}

/**
 * `line` cut to `columns` characters on screen (escape codes take none), ending in … when cut; colours are reset
 * after a cut so they never run into the next line.
 */
export function fit(line: string, columns: number): string {
  if (!Number.isFinite(columns) || visibleLength(line) <= columns) return line
  const escape = new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]`, 'y')
  let out = ''
  let visible = 0
  for (let i = 0; i < line.length && visible < columns - 1;) {
    escape.lastIndex = i
    const code = escape.exec(line)
    if (code) {
      out += code[0]
      i += code[0].length
      continue
    }
    const char = String.fromCodePoint(line.codePointAt(i)!)
    out += char
    visible++
    i += char.length
  }
  return `${out}…${out.includes('\x1b') ? '\x1b[0m' : ''}`
}

const ESC = '\x1b'

function visibleLength(text: string): number {
  return [...stripVTControlCharacters(text)].length
}
