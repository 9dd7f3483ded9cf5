/**
 * The automation layer: YAML automations compiled into generator transactions under gen-lock priority locks.
 * The daemon needs only these: read the files, hand the definitions to an engine, start it.
 *
 * @example
 * const { definitions, problems } = readAutomationFiles('automations', new Set(devices.keys()))
 * const engine = new AutomationEngine({ locks: genLock(), devices, bus, baseTopic: 'genlock', logger })
 * engine.load(definitions)
 * engine.start()
 */
export type { AutomationDefinition, PreemptPolicy, RunMode, StepDefinition, TriggerDefinition } from './definition.js'
export { parseDuration } from './duration.js'
export { AutomationEngine, type AutomationEngineOptions } from './engine.js'
export { readAutomationFiles, type AutomationLoadResult } from './load.js'
export { parseAutomationFile } from './parse.js'
export type { AutomationState, AutomationStatus } from './status.js'
