import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { isUtf8 } from 'node:buffer'
import { CST, isMap, isScalar, isSeq, LineCounter, Parser, parseDocument, visit, type Document, type Node } from 'yaml'
import { z } from 'zod'
import { ConfigError, type ConfigProblem } from './problems.js'

// zod compiles a fast path for each object schema with `new Function` the first time it parses one. genlock runs no
// code built from strings, and its schemas each read a handful of small files once at start (and at reloads):
// compiling those paths cost more start-up time than they saved.
z.config({ jitless: true })

export type FieldPath = readonly PropertyKey[]

/**
 * The largest config, device or automation file genlock reads: 64 KiB. The shipped files are 2 KB at most, and
 * the yaml parser needs about 0.3 s for 64 KiB of dense steps on a desktop (about 1 s on a Pi) with the event
 * loop blocked; a 5 MB file froze a running daemon for 3.5 s and 50 MB for 38 s (issue 13.5).
 */
export const MAX_YAML_FILE_BYTES = 64 * 1024

/**
 * Aliases a file may expand: anchors for shared step lists are fine; a "billion laughs" file (nine levels of nine
 * aliases, 387 million nodes from 650 bytes) is not. The yaml library counts and stops at this.
 */
const MAX_ALIAS_COUNT = 100

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
    const source = text === undefined ? readYamlFile(file) : checkedText(file, text)
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
    const data = partial.interpolate(partial.toPlainData(), [], env, problems)
    if (problems.length > 0) throw new ConfigError(problems)
    return new YamlSource(file, document, lines, data)
  }

  /**
   * The document as plain data. The yaml library stops an alias bomb with a bare ReferenceError; unhandled, that
   * took down `validate`, the daemon's start and every later hot reload (issue 13.4). Here it is this file's problem.
   */
  private toPlainData(): unknown {
    try {
      return this.document.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
    } catch (error) {
      const at = this.lines.linePos(firstAliasOffset(this.document))
      const message = /alias/i.test((error as Error).message)
        ? `too many alias expansions (*name) for one file (the limit is ${MAX_ALIAS_COUNT}): ` +
          'a "billion laughs" file? Write the repeated parts out'
        : `cannot be read as plain data: ${(error as Error).message}`
      throw new ConfigError([{ file: this.file, line: at.line, column: at.col, field: '', message }])
    }
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

/** Reads `file` as UTF-8 text, refusing (with the file named) one over {@link MAX_YAML_FILE_BYTES} or not UTF-8. */
function readYamlFile(file: string): string {
  let bytes: Buffer
  try {
    const fd = openSync(file, 'r')
    try {
      // Checked on the open file, so what is read is what was measured: nothing big is read or parsed.
      const size = fstatSync(fd).size
      if (size > MAX_YAML_FILE_BYTES) throw new ConfigError([tooBig(file, size)])
      bytes = Buffer.alloc(size)
      let read = 0
      while (read < size) {
        const n = readSync(fd, bytes, read, size - read, read)
        if (n === 0) break
        read += n
      }
      bytes = bytes.subarray(0, read)
    } finally {
      closeSync(fd)
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error
    throw new ConfigError([{ file, line: 0, column: 0, field: '', message: (error as Error).message }])
  }
  const bad = firstInvalidUtf8Byte(bytes)
  if (bad !== undefined) {
    const before = bytes.subarray(0, bad)
    const lineStart = before.lastIndexOf(0x0a) + 1
    const line = before.filter((byte) => byte === 0x0a).length + 1
    const column = [...bytes.subarray(lineStart, bad).toString('utf8')].length + 1
    const byte = `0x${bytes[bad]!.toString(16).padStart(2, '0')}`
    throw new ConfigError([
      { file, line, column, field: '', message: `not valid UTF-8 (byte ${byte}): save the file as UTF-8` },
    ])
  }
  return bytes.toString('utf8')
}

function checkedText(file: string, text: string): string {
  const size = Buffer.byteLength(text, 'utf8')
  if (size > MAX_YAML_FILE_BYTES) throw new ConfigError([tooBig(file, size)])
  return text
}

function tooBig(file: string, size: number): ConfigProblem {
  return {
    file,
    line: 0,
    column: 0,
    field: '',
    message:
      `is ${size} bytes; the limit is ${MAX_YAML_FILE_BYTES} bytes ` +
      "(genlock's YAML files are small: split it up, or move data out of it)",
  }
}

/**
 * The offset of the first byte that is not part of valid UTF-8, or undefined when all is valid. Node's lenient
 * decoding turns such a byte into U+FFFD silently; comparing each decoded character with its bytes finds it.
 */
function firstInvalidUtf8Byte(bytes: Buffer): number | undefined {
  if (isUtf8(bytes)) return undefined
  let offset = 0
  for (const char of bytes.toString('utf8')) {
    const encoded = Buffer.from(char, 'utf8')
    if (!bytes.subarray(offset, offset + encoded.length).equals(encoded)) return offset
    offset += encoded.length
  }
  return offset
}

/** Where the first alias (`*name`) of the document starts, for a problem about aliases. */
function firstAliasOffset(document: Document): number {
  let offset = 0
  visit(document, {
    Alias(_key, node) {
      offset = node.range?.[0] ?? 0
      return visit.BREAK
    },
  })
  return offset
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
