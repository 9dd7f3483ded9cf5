import type { Rgb } from '../../devices/bulb.js'

/** How many colours a terminal shows: 24-bit, the xterm 256-colour palette, the 16 ANSI colours, or none. */
export type ColorMode = 'truecolor' | '256' | '16' | 'none'

/**
 * What the terminal can show, from the environment: `NO_COLOR` → none; `COLORTERM=truecolor|24bit` → 24-bit;
 * a `TERM` with `256color` → 256; a dumb terminal or a pipe → none; anything else → 16.
 *
 * @example
 * colorSupport({ COLORTERM: 'truecolor' }, true) // 'truecolor'
 */
export function colorSupport(env: NodeJS.ProcessEnv, isTTY: boolean): ColorMode {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 'none'
  if (!isTTY || env.TERM === 'dumb') return 'none'
  if (/^(truecolor|24bit)$/i.test(env.COLORTERM ?? '')) return 'truecolor'
  if (/256/.test(env.TERM ?? '')) return '256'
  return '16'
}

/** The 16 ANSI colours as xterm draws them: index i is SGR background 40+i (i < 8) or 100+i-8. */
const ANSI16: readonly Rgb[] = [
  { r: 0, g: 0, b: 0 },
  { r: 205, g: 0, b: 0 },
  { r: 0, g: 205, b: 0 },
  { r: 205, g: 205, b: 0 },
  { r: 0, g: 0, b: 238 },
  { r: 205, g: 0, b: 205 },
  { r: 0, g: 205, b: 205 },
  { r: 229, g: 229, b: 229 },
  { r: 127, g: 127, b: 127 },
  { r: 255, g: 0, b: 0 },
  { r: 0, g: 255, b: 0 },
  { r: 255, g: 255, b: 0 },
  { r: 92, g: 92, b: 255 },
  { r: 255, g: 0, b: 255 },
  { r: 0, g: 255, b: 255 },
  { r: 255, g: 255, b: 255 },
]

const distance = (a: Rgb, b: Rgb) => (a.r - b.r) ** 2 + (a.g - b.g) ** 2 + (a.b - b.b) ** 2

/** The nearest of the 16 ANSI colours (0–15). */
export function nearestAnsi16(rgb: Rgb): number {
  let best = 0
  for (let i = 1; i < ANSI16.length; i++) if (distance(rgb, ANSI16[i]!) < distance(rgb, ANSI16[best]!)) best = i
  return best
}

/** The levels of xterm's 6×6×6 colour cube. */
const CUBE = [0, 95, 135, 175, 215, 255]

const nearestLevel = (value: number) =>
  CUBE.reduce((best, level, i) => (Math.abs(level - value) < Math.abs(CUBE[best]! - value) ? i : best), 0)

/** The nearest xterm 256-palette entry: from the colour cube (16–231) or the grey ramp (232–255). */
export function nearestXterm256(rgb: Rgb): number {
  const [r, g, b] = [nearestLevel(rgb.r), nearestLevel(rgb.g), nearestLevel(rgb.b)]
  const cubeIndex = 16 + 36 * r + 6 * g + b
  const cube = { r: CUBE[r]!, g: CUBE[g]!, b: CUBE[b]! }
  const mean = (rgb.r + rgb.g + rgb.b) / 3
  const greyStep = Math.max(0, Math.min(23, Math.round((mean - 8) / 10)))
  const grey = 8 + greyStep * 10
  return distance(rgb, { r: grey, g: grey, b: grey }) < distance(rgb, cube) ? 232 + greyStep : cubeIndex
}

const RESET = '\x1b[0m'

/**
 * `text` on a background of `rgb`, in the best way `mode` allows; with `none`, the text as it is (callers print
 * the hex code beside it).
 *
 * @example
 * background({ r: 255, g: 0, b: 0 }, '  ', '256') // '\x1b[48;5;196m  \x1b[0m'
 */
export function background(rgb: Rgb, text: string, mode: ColorMode): string {
  switch (mode) {
    case 'truecolor':
      return `\x1b[48;2;${Math.round(rgb.r)};${Math.round(rgb.g)};${Math.round(rgb.b)}m${text}${RESET}`
    case '256':
      return `\x1b[48;5;${nearestXterm256(rgb)}m${text}${RESET}`
    case '16': {
      const index = nearestAnsi16(rgb)
      return `\x1b[${index < 8 ? 40 + index : 100 + index - 8}m${text}${RESET}`
    }
    case 'none':
      return text
  }
}

/** `text` drawn in the colour `rgb`, in the best way `mode` allows; with `none`, the text as it is. */
export function foreground(rgb: Rgb, text: string, mode: ColorMode): string {
  switch (mode) {
    case 'truecolor':
      return `\x1b[38;2;${Math.round(rgb.r)};${Math.round(rgb.g)};${Math.round(rgb.b)}m${text}${RESET}`
    case '256':
      return `\x1b[38;5;${nearestXterm256(rgb)}m${text}${RESET}`
    case '16': {
      const index = nearestAnsi16(rgb)
      return `\x1b[${index < 8 ? 30 + index : 90 + index - 8}m${text}${RESET}`
    }
    case 'none':
      return text
  }
}

/** `text` in bold (or as it is with `none`). */
export function bold(text: string, mode: ColorMode): string {
  return mode === 'none' ? text : `\x1b[1m${text}${RESET}`
}

/** `text` dimmed (or as it is with `none`). */
export function dim(text: string, mode: ColorMode): string {
  return mode === 'none' ? text : `\x1b[2m${text}${RESET}`
}
