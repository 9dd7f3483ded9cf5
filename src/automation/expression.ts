import { createRequire } from 'node:module'
import type jexlModule from 'jexl'

/**
 * Conditions and `{{ templates }}` in automation files, evaluated with jexl: a small expression language that
 * reads the context it is given and calls only the transforms registered here, so nothing from YAML or MQTT is
 * ever run as JavaScript. Each source is compiled once (at load); a run only evaluates.
 */
const TRANSFORMS = {
  number: (value: unknown) => Number(value),
  string: (value: unknown) => (value === undefined || value === null ? '' : String(value)),
  lower: (value: unknown) => String(value).toLowerCase(),
  upper: (value: unknown) => String(value).toUpperCase(),
  round: (value: unknown, digits: unknown = 0) => {
    const factor = 10 ** Number(digits)
    return Math.round(Number(value) * factor) / factor
  },
  json: (value: unknown) => JSON.stringify(value),
}

type Jexl = InstanceType<(typeof jexlModule)['Jexl']>
let jexl: Jexl | undefined

/**
 * jexl, loaded at the first expression: with the Babel runtime it brings it is ~40 modules (~15 ms of start-up on
 * a desktop), which a daemon whose automations use no condition or template never needs.
 */
function expressions(): Jexl {
  if (!jexl) {
    const { Jexl } = createRequire(import.meta.url)('jexl') as typeof jexlModule
    jexl = new Jexl()
    jexl.addTransforms(TRANSFORMS)
  }
  return jexl
}

/** The variables an expression can read (see `RunVariables` in expression-context.ts). */
export type ExpressionContext = Record<string, unknown>

/** A condition compiled once. */
export interface Condition {
  /** Evaluates to a boolean (JavaScript truthiness). Throws on an evaluation error. */
  test(context: ExpressionContext): boolean
  /** Topics it reads as `last['topic']` or `last_json['topic']` (they must be watched to be seen). */
  readonly topicsRead: readonly string[]
}

/** A string value compiled once: text without `{{ }}` is a constant. */
export interface Template {
  /** The value now: one whole `{{ expr }}` keeps its type, anything else is text. Throws on an evaluation error. */
  render(context: ExpressionContext): unknown
  readonly topicsRead: readonly string[]
}

type Expression = ReturnType<Jexl['compile']>

const compiled = new Map<string, Expression>()
const TEMPLATE = /\{\{([\s\S]*?)\}\}/g
const WHOLE_TEMPLATE = /^\s*\{\{([\s\S]*?)\}\}\s*$/

function compile(source: string): Expression {
  let expression = compiled.get(source)
  if (!expression) {
    expression = expressions().compile(source)
    compiled.set(source, expression)
  }
  return expression
}

/** A condition may be written bare (`trigger.json.temp > 30`) or wrapped in `{{ }}`. */
function conditionSource(source: string): string {
  const whole = WHOLE_TEMPLATE.exec(source)
  return whole ? whole[1]! : source
}

/** True when `value` is a string with at least one `{{ }}` in it. */
export function isTemplate(value: unknown): value is string {
  return typeof value === 'string' && value.includes('{{')
}

/**
 * Returns what is wrong with a condition: a syntax error, or a call of a transform or function that does not
 * exist (jexl would only notice when evaluating it). Undefined when it is fine.
 */
export function checkCondition(source: string): string | undefined {
  let expression: Expression
  try {
    expression = compile(conditionSource(source))
  } catch (error) {
    return (error as Error).message
  }
  return unknownCall(expression._getAst())
}

function unknownCall(node: unknown): string | undefined {
  if (node === null || typeof node !== 'object') return undefined
  const { type, name, pool } = node as { type?: unknown; name?: unknown; pool?: unknown }
  if (type === 'FunctionCall' && typeof name === 'string') {
    if (pool !== 'transforms') return `unknown function '${name}' (expressions cannot call functions)`
    if (!Object.hasOwn(TRANSFORMS, name)) {
      return `unknown transform '|${name}' (known: ${Object.keys(TRANSFORMS).join(', ')})`
    }
  }
  for (const child of Object.values(node)) {
    const problem = Array.isArray(child) ? child.map(unknownCall).find(Boolean) : unknownCall(child)
    if (problem) return problem
  }
  return undefined
}

/** Returns the syntax error of the first bad `{{ }}` in a template, or undefined when all parse. */
export function checkTemplate(source: string): string | undefined {
  if (/\{\{(?![\s\S]*?\}\})/.test(source)) return `unclosed '{{' in "${source}"`
  for (const match of source.matchAll(TEMPLATE)) {
    const problem = checkCondition(match[1]!)
    if (problem) return problem
  }
  return undefined
}

/**
 * The syntax trees of a condition (`template: false`, bare or in `{{ }}`) or of each `{{ }}` in a template, for
 * checks of what they read; those that do not parse are left out (their syntax error is reported on its own).
 */
export function syntaxTrees(source: string, template: boolean): unknown[] {
  const sources = template ? [...source.matchAll(TEMPLATE)].map((match) => match[1]!) : [conditionSource(source)]
  return sources.flatMap((text) => {
    try {
      return [compile(text)._getAst()]
    } catch {
      return []
    }
  })
}

/** A compiled expression, or one that throws its syntax error when evaluated (the parse stage reports those). */
interface Compiled {
  evaluate(context: ExpressionContext): unknown
  readonly topicsRead: readonly string[]
}

function compiledExpression(source: string): Compiled {
  let expression: Expression
  try {
    expression = compile(source)
  } catch (error) {
    return {
      evaluate: () => {
        throw error
      },
      topicsRead: [],
    }
  }
  return { evaluate: (context) => expression.evalSync(context), topicsRead: topicsIn(expression._getAst()) }
}

/** Compiles a condition (bare or in `{{ }}`). */
export function compileCondition(source: string): Condition {
  const expression = compiledExpression(conditionSource(source))
  return { test: (context) => Boolean(expression.evaluate(context)), topicsRead: expression.topicsRead }
}

/** Compiles a string that may hold `{{ }}` templates. */
export function compileTemplate(source: string): Template {
  if (!source.includes('{{')) return { render: () => source, topicsRead: [] }
  const whole = WHOLE_TEMPLATE.exec(source)
  if (whole && !whole[1]!.includes('}}')) {
    const expression = compiledExpression(whole[1]!)
    return { render: (context) => expression.evaluate(context), topicsRead: expression.topicsRead }
  }
  const parts: (string | Compiled)[] = []
  let at = 0
  for (const match of source.matchAll(TEMPLATE)) {
    parts.push(source.slice(at, match.index), compiledExpression(match[1]!))
    at = match.index + match[0].length
  }
  parts.push(source.slice(at))
  return {
    render(context) {
      let text = ''
      for (const part of parts) text += typeof part === 'string' ? part : asText(part.evaluate(context))
      return text
    },
    topicsRead: parts.flatMap((part) => (typeof part === 'string' ? [] : part.topicsRead)),
  }
}

function asText(value: unknown): string {
  if (value === undefined || value === null) return ''
  return typeof value === 'object' ? JSON.stringify(value) : String(value)
}

/**
 * Compiles every string inside `value` (objects and arrays included) as a template; the result renders a copy
 * with each evaluated. Values without any template come back as they are.
 */
export function compileDeep(value: unknown): Template {
  if (typeof value === 'string') return compileTemplate(value)
  if (Array.isArray(value)) {
    const items = value.map(compileDeep)
    return {
      render: (context) => items.map((item) => item.render(context)),
      topicsRead: items.flatMap((item) => item.topicsRead),
    }
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([key, item]) => [key, compileDeep(item)] as const)
    return {
      render: (context) => Object.fromEntries(entries.map(([key, item]) => [key, item.render(context)])),
      topicsRead: entries.flatMap(([, item]) => item.topicsRead),
    }
  }
  return { render: () => value, topicsRead: [] }
}

/** Evaluates a condition once (compiled and cached by its source). */
export function evaluateCondition(source: string, context: ExpressionContext): boolean {
  return compileCondition(source).test(context)
}

/** Renders a template once (see `compileTemplate`). */
export function renderTemplate(source: string, context: ExpressionContext): unknown {
  return compileTemplate(source).render(context)
}

/** Renders every string inside `value` once (see `compileDeep`). */
export function renderDeep(value: unknown, context: ExpressionContext): unknown {
  return compileDeep(value).render(context)
}

/**
 * The topics an expression reads from the last-payload lookups: `last['a/b']`, `last_json["a/b"]` and
 * `last.topic`, found in jexl's syntax tree (a topic computed at run time, `last['a/' + x]`, cannot be known).
 */
function topicsIn(node: unknown, into: string[] = []): string[] {
  if (node === null || typeof node !== 'object') return into
  const { type, subject, expr, relative, from, value } = node as Record<string, unknown>
  if (type === 'FilterExpression' && relative === false && isLastLookup(subject)) {
    const literal = expr as { type?: unknown; value?: unknown } | undefined
    if (literal?.type === 'Literal' && typeof literal.value === 'string') into.push(literal.value)
  } else if (type === 'Identifier' && typeof value === 'string' && isLastLookup(from)) {
    into.push(value)
  }
  for (const child of Object.values(node)) {
    if (Array.isArray(child)) for (const item of child) topicsIn(item, into)
    else topicsIn(child, into)
  }
  return into
}

function isLastLookup(node: unknown): boolean {
  const { type, value, from } = (node ?? {}) as { type?: unknown; value?: unknown; from?: unknown }
  return type === 'Identifier' && (value === 'last' || value === 'last_json') && from === undefined
}
