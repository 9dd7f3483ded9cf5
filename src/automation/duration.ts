/** Durations are parsed in one place for every file genlock reads (automations, device files): src/config/duration.ts. */
export {
  DURATION_EXAMPLES,
  DURATION_FORMS,
  DURATION_JSON_FORMS,
  durationText,
  MAX_DURATION_MS,
  OFFSET_JSON_FORMS,
  parseDuration,
  parseOffset,
} from '../config/duration.js'
