import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { CliError } from '../errors.js'

/**
 * The add-on's options as the Supervisor writes them to `/data/options.json`: the `options` of the add-on's
 * config.yaml with the user's changes, already checked against its `schema`. Checked again here, so a hand-made
 * file (or a Supervisor that did not check) gets a clear error instead of a half-made config.
 */
export const addonOptionsSchema = z.object({
  base_topic: z.string().min(1),
  manual_priority: z.number().int(),
  manual_hold: z.string().min(1),
  log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']),
})

export type AddonOptions = z.output<typeof addonOptionsSchema>

/** Reads and checks the options file; problems name the option and what to do. */
export function readAddonOptions(file: string): AddonOptions {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new CliError(
      `cannot read the add-on options ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); ` +
        'the Supervisor writes it before each start: restart the add-on',
    )
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (error) {
    throw new CliError(`the add-on options ${file} are not JSON (${(error as Error).message})`)
  }
  const parsed = addonOptionsSchema.safeParse(data)
  if (parsed.success) return parsed.data
  const problems = parsed.error.issues.map((issue) => `option ${issue.path.join('.') || '(all)'}: ${issue.message}`)
  throw new CliError(`${problems.join('; ')} (in ${file}; fix it on the add-on's Configuration tab)`)
}
