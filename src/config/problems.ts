/** One thing wrong with a config file, with where it is. */
export interface ConfigProblem {
  readonly file: string
  /** 1-based; 0 when the problem is about the file as a whole. */
  readonly line: number
  readonly column: number
  /** Dotted path of the field, e.g. `steps.2.set.color`; empty for the whole document. */
  readonly field: string
  readonly message: string
}

export function formatProblem(problem: ConfigProblem): string {
  const where = problem.line > 0 ? `${problem.file}:${problem.line}:${problem.column}` : problem.file
  return `${where} ${problem.field ? `${problem.field}: ` : ''}${problem.message}`
}

/** Every problem found in one or more config files. Its message lists them all, one per line. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'

  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'))
  }
}
