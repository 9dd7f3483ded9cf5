import { readFileSync } from 'node:fs'
import { CST, isMap, isScalar, isSeq, LineCounter, Parser, parseDocument, type Document, type Node } from 'yaml'
import { z } from 'zod'
import { ConfigError, type ConfigProblem } from './problems.js'

export type FieldPath = readonly PropertyKey[]

/**
 * A parsed YAML file that remembers where every node came from, so a problem found later (by a schema,
 * by a cross-reference check) can name its file, line, column and field.
 */
export class YamlSource {
  private constructor(
    readonly file: string,
    private readonly document: Document,
    private readonly lines: LineCounter,
    /** The document as plain data, with `${ENV}` references substituted. */
    readonly data: unknown,
  ) {}

  /**
   * Parses `file` (or `text`, reported as `file`). Throws a ConfigError listing every YAML syntax
   * problem and every `${VAR}` that is not set.
   */
  static parse(file: string, text?: string, env: NodeJS.ProcessEnv = process.env): YamlSource {
    let source: string
    try {
      source = text ?? readFileSync(file, 'utf8')
    } catch (error) {
      throw new ConfigError([{ file, line: 0, column: 0, field: '', message: (error as Error).message }])
    }
    const lines = new LineCounter()
    const document = parseDocument(source, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
    const problems: ConfigProblem[] = document.errors.map((error) => {
      const message = error.message.split('\n')[0]!
      // An unclosed quote runs to the end of the file, where the parser reports it: point at the opening quote.
      const quote = error.code === 'MISSING_CHAR' ? unclosedQuoteAt(source, error.pos[0]) : undefined
      const at = lines.linePos(quote ?? error.pos[0])
      const text = quote === undefined ? message : `${message}: the string that starts here is never closed`
      return { file, line: at.line, column: at.col, field: '', message: text }
    })
    if (problems.length > 0) throw new ConfigError(problems)
    const partial = new YamlSource(file, document, lines, undefined)
    const data = partial.interpolate(document.toJS({ maxAliasCount: 100 }), [], env, problems)
    if (problems.length > 0) throw new ConfigError(problems)
    return new YamlSource(file, document, lines, data)
  }

  /** Where the node at `path` starts (or its nearest existing parent, when the field is missing). */
  locate(path: FieldPath): { line: number; column: number } {
    let node: unknown = this.document.contents
    let found: Node | undefined = isNode(node) ? node : undefined
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(key))
        if (!pair) break
        node = pair.value
        if (isNode(pair.value)) found = pair.value
        else if (isNode(pair.key)) found = pair.key
      } else if (isSeq(node) && typeof key === 'number') {
        node = node.items[key]
        if (!isNode(node)) break
        found = node
      } else {
        break
      }
    }
    const offset = found?.range?.[0] ?? 0
    const at = this.lines.linePos(offset)
    return { line: at.line, column: at.col }
  }

  problem(path: FieldPath, message: string): ConfigProblem {
    return { file: this.file, ...this.locate(path), field: path.map(String).join('.'), message }
  }

  /** Checks `data` against `schema`; throws a ConfigError naming every failing field. */
  validate<S extends z.ZodType>(schema: S, data: unknown = this.data): z.output<S> {
    const result = schema.safeParse(data)
    if (result.success) return result.data
    throw new ConfigError(
      result.error.issues.flatMap((issue) =>
        issue.code === 'unrecognized_keys'
          ? issue.keys.map((key) => this.problem([...issue.path, key], `unknown field '${key}'`))
          : [this.problem(issue.path, issue.message)],
      ),
    )
  }

  private interpolate(value: unknown, path: PropertyKey[], env: NodeJS.ProcessEnv, problems: ConfigProblem[]): unknown {
    if (typeof value === 'string') {
      return value.replace(
        /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
        (_match, name: string, fallback?: string) => {
          const found = env[name]
          if (found !== undefined && found !== '') return found
          if (fallback !== undefined) return fallback
          problems.push(this.problem(path, `environment variable ${name} is not set`))
          return ''
        },
      )
    }
    if (Array.isArray(value)) return value.map((item, i) => this.interpolate(item, [...path, i], env, problems))
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [key, this.interpolate(item, [...path, key], env, problems)]),
      )
    }
    return value
  }
}

/** Where the quoted scalar that ends (unclosed) at `end` starts, or undefined when no quoted scalar does. */
function unclosedQuoteAt(source: string, end: number): number | undefined {
  let start: number | undefined
  for (const token of new Parser().parse(source)) {
    if (token.type !== 'document') continue
    CST.visit(token, ({ value }) => {
      const quoted = value?.type === 'double-quoted-scalar' || value?.type === 'single-quoted-scalar'
      if (quoted && value.offset + value.source.length === end) start = value.offset
    })
  }
  return start
}

function isNode(value: unknown): value is Node {
  return value !== null && typeof value === 'object' && 'range' in value
}
