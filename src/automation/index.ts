/**
 * The automation layer: YAML automations compiled into generator transactions under gen-lock priority locks.
 * An automation file goes parse → link → compile → run, each stage once and in that order:
 * - parse (parse.ts, parse-steps.ts, automation-schema.ts, step-schema.ts): YAML → AutomationDefinition, with
 *   every problem's file:line:col;
 * - link (link.ts): what automations say about each other (unique names, `on_preempt: { replace }`);
 * - compile (compile.ts and the step-*.ts runners): triggers, steps and replacement as code, and the topics to watch;
 * - run (engine.ts, automation.ts, automation-run.ts): locks, triggers, modes, recovery, run events.
 * The daemon needs only these: read the files, hand the definitions to an engine, start it.
 *
 * @example
 * const { definitions, problems } = readAutomationFiles('automations', new Set(devices.keys()))
 * const engine = new AutomationEngine({ locks: genLock(), devices, bus, baseTopic: 'genlock', logger,
 *   timezone: config.timezone, location: config.location, scheduleStore })
 * engine.load(definitions)
 * engine.on('run', (event) => trace(event))
 * engine.start()
 */
export { systemClock, type Cancel, type Clock } from './clock.js'
export { VirtualClock, type VirtualClockOptions } from './virtual-clock.js'
export type {
  AutomationDefinition,
  PreemptPolicy,
  RunMode,
  StepDefinition,
  TriggerDefinition,
  TriggerKind,
} from './definition.js'
export type { DeviceFacts } from './device-facts.js'
export { parseDuration } from './duration.js'
export { AutomationEngine, type AutomationEngineOptions } from './engine.js'
export type { LinkSetting } from './link.js'
export { readAutomationFiles, type AutomationLoadResult } from './load.js'
export { parseAutomationFile } from './parse.js'
export type {
  RecoveryAction,
  RunEvent,
  RunEventBody,
  RunEventListener,
  RunOutcomeKind,
  TriggerVia,
} from './run-events.js'
export type { Location } from './schedule.js'
export { readScheduleRecord, type ScheduleRecord, type ScheduleStore } from './schedule-memory.js'
export type { AutomationState, AutomationStatus } from './status.js'
export { readRunJournal, type RunJournalRecord, type RunJournalStore } from './run-journal.js'
