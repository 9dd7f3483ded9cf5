/**
 * The one async API every bulb is behind, whatever its brand. Automations and the lock core only ever see
 * this interface; adapters (sim, hue, kasa, mqtt) implement it.
 */

/** 0–255 per channel. */
export interface Rgb {
  readonly r: number
  readonly g: number
  readonly b: number
}

/** What a caller may pass as a colour: a CSS name (`red`), hex (`#ff8800`), `{ r, g, b }`, `{ h, s, v }`, or kelvin. */
export type ColorInput =
  string | Rgb | { readonly h: number; readonly s: number; readonly v: number } | { readonly kelvin: number }

export interface BulbState {
  readonly on: boolean
  /** 0–100 %. */
  readonly brightness: number
  /** Set when the bulb is in colour mode. */
  readonly color?: Rgb
  /** Kelvin; set when the bulb is in white (colour temperature) mode. */
  readonly colorTemp?: number
  readonly reachable: boolean
}

export interface BulbCommand {
  readonly on?: boolean
  /** 0–100 %. */
  readonly brightness?: number
  readonly color?: ColorInput
  /** Kelvin. */
  readonly colorTemp?: number
  /** Fade time in ms. */
  readonly transition?: number
}

export interface BulbCapabilities {
  readonly dimmable: boolean
  readonly color: boolean
  /** Kelvin range, when the bulb does white colour temperature. */
  readonly colorTemp?: { readonly min: number; readonly max: number }
}

/** Who issued a command: recorded in command logs, and the fencing token of the lease it was issued under. */
export interface CommandOrigin {
  readonly holder?: string
  readonly token?: number
}

/**
 * What a bulb tells its subscribers. A `state` event with `outside: true` is a change genlock did not command (the
 * app, a wall switch, a remote), seen in a poll, an event stream or an MQTT state message; without it, the state
 * changed through genlock's own command (or the bulb's first report).
 */
export type BulbEvent =
  | { readonly type: 'state'; readonly state: BulbState; readonly outside?: true }
  | { readonly type: 'availability'; readonly reachable: boolean; readonly error?: Error }

export interface Bulb {
  readonly id: string
  readonly name: string
  /** `sim`, `hue`, `kasa` or `mqtt`. */
  readonly adapter: string
  readonly capabilities: BulbCapabilities
  /** The last state known, without asking the bulb. */
  readonly state: BulbState
  setState(command: BulbCommand, origin?: CommandOrigin): Promise<BulbState>
  setColor(color: ColorInput, origin?: CommandOrigin): Promise<BulbState>
  setBrightness(percent: number, origin?: CommandOrigin): Promise<BulbState>
  setPower(on: boolean, origin?: CommandOrigin): Promise<BulbState>
  /** Asks the bulb for its state. */
  getStatus(): Promise<BulbState>
  /** Subscribes to state and availability changes; returns the unsubscribe function. */
  subscribe(listener: (event: BulbEvent) => void): () => void
  /** Connects (and starts following state where the protocol pushes it). */
  start(): Promise<void>
  stop(): Promise<void>
}
