import type { BulbCommand, BulbState } from '../devices/bulb.js'

/** The command that puts a bulb back into `state` (off stays off; colour or white as it was). */
export function restoreCommand(state: BulbState): BulbCommand {
  if (!state.on) return { on: false }
  if (state.color) return { on: true, brightness: state.brightness, color: state.color }
  if (state.colorTemp !== undefined) return { on: true, brightness: state.brightness, colorTemp: state.colorTemp }
  return { on: true, brightness: state.brightness }
}
