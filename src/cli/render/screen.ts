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
  /** ms since the simulation started. */
  readonly elapsedMs: number
  readonly bulbs: readonly BulbView[]
  readonly automations: readonly AutomationView[]
  /** The latest timeline lines, oldest first. */
  readonly recent: readonly string[]
  /** What the user is typing after `:`, when they are. */
  readonly prompt?: string
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
 * One frame of `genlock simulate` as text: a swatch per bulb (true colour, 256 or 16 colours, or none — then the
 * hex code says it), brightness, power, holder; the automations with their state and keys; the latest events.
 * Pure: the same view and mode give the same string.
 */
export function renderScreen(view: SimulationView, mode: ColorMode): string {
  const lines: string[] = []
  lines.push(bold(`genlock simulate — ${view.title}`, mode))
  lines.push(dim(`broker ${view.broker} · ${(view.elapsedMs / 1000).toFixed(1)}s`, mode))
  lines.push('')
  lines.push(bold('BULBS', mode))
  const idWidth = Math.max(6, ...view.bulbs.map((bulb) => bulb.id.length))
  for (const bulb of view.bulbs) {
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
    lines.push(`  ${swatch} ${cell(bulb.id, idWidth)}  ${power} ${brightness}  ${cell(colour, 7)}  ${holder}`)
  }
  lines.push('')
  lines.push(bold('AUTOMATIONS', mode))
  const nameWidth = Math.max(10, ...view.automations.map((automation) => automation.name.length))
  for (const automation of view.automations) {
    const keys = automation.triggerKey ? `[${automation.triggerKey}/${automation.stopKey ?? ' '}]` : '     '
    const state = `${STATE_MARK[automation.state] ?? '?'} ${automation.state}`
    const error = automation.lastError ? `  last error: ${automation.lastError}` : ''
    const stateText = automation.state === 'idle' ? dim(cell(state, 11), mode) : bold(cell(state, 11), mode)
    lines.push(
      `  ${keys} ${cell(automation.name, nameWidth)}  prio ${String(automation.priority).padEnd(5)} ${stateText}${error}`,
    )
  }
  lines.push('')
  lines.push(bold('RECENT', mode))
  for (const line of view.recent) lines.push(`  ${line}`)
  lines.push('')
  lines.push(
    view.prompt === undefined
      ? dim('keys: lower case fires a trigger, upper case its stop · : types a command · q quits', mode)
      : `:${view.prompt}█  ${dim('(trigger <name> | stop <name> | quit; Enter runs, Esc cancels)', mode)}`,
  )
  return lines.join('\n')
}
