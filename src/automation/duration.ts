/** Durations are parsed in one place for every file genlock reads (automations, device files): src/config/duration.ts. */
export { MAX_DURATION_MS, parseDuration } from '../config/duration.js'
