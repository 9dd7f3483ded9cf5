/** Durations are parsed in one place for every file genlock reads (automations, device files): src/config/duration.ts. */
export { DURATION_FORMS, durationText, MAX_DURATION_MS, parseDuration, parseOffset } from '../config/duration.js'
