/**
 * The daemon: one composition root (Daemon) that builds genlock from its config and starts its extensions in
 * order, and the seam extensions plug into (Extension, DaemonContext, the owner-keyed event bus).
 */
export { Daemon, type DaemonOptions } from './daemon.js'
export type {
  ConnectionChange,
  DaemonEventMap,
  DaemonEventName,
  DaemonEvents,
  DaemonListener,
  DevicesChange,
  EventOwner,
  RepublishReason,
} from './events.js'
export type { DaemonContext, Extension } from './extension.js'
export { holderName, type HolderView } from './holders.js'
export { perTick } from './per-tick.js'
export type { ReloadOutcome } from './reload.js'
export type { RunEvent } from '../automation/index.js'
