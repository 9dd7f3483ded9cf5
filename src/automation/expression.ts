import jexlModule from 'jexl'

/**
 * Conditions and `{{ templates }}` in automation files, evaluated with jexl: a small expression language that
 * reads the context it is given and calls only the transforms registered here, so nothing from YAML or MQTT is
 * ever run as JavaScript.
 */
const jexl = new jexlModule.Jexl()
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
jexl.addTransforms(TRANSFORMS)

/** The variables an expression can read (see `ExpressionScope` in scope.ts). */
export type ExpressionContext = Record<string, unknown>

type Expression = ReturnType<typeof jexl.compile>

const compiled = new Map<string, Expression>()
const TEMPLATE = /\{\{([\s\S]*?)\}\}/g
const WHOLE_TEMPLATE = /^\s*\{\{([\s\S]*?)\}\}\s*$/

function compile(source: string): Expression {
  let expression = compiled.get(source)
  if (!expression) {
    expression = jexl.compile(source)
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

/** Evaluates a condition to a boolean (JavaScript truthiness). Throws on an evaluation error. */
export function evaluateCondition(source: string, context: ExpressionContext): boolean {
  return Boolean(compile(conditionSource(source)).evalSync(context))
}

/**
 * Renders a template: a string that is one `{{ expr }}` gives the expression's value as it is (a number stays a
 * number); otherwise every `{{ expr }}` is replaced by its value as text. Strings without `{{` come back as they are.
 */
export function renderTemplate(source: string, context: ExpressionContext): unknown {
  if (!source.includes('{{')) return source
  const whole = WHOLE_TEMPLATE.exec(source)
  if (whole && !whole[1]!.includes('}}')) return compile(whole[1]!).evalSync(context)
  return source.replace(TEMPLATE, (_match, expr: string) => {
    const value: unknown = compile(expr).evalSync(context)
    if (value === undefined || value === null) return ''
    return typeof value === 'object' ? JSON.stringify(value) : String(value)
  })
}

/** Renders every string inside `value` (objects and arrays included) as a template. */
export function renderDeep(value: unknown, context: ExpressionContext): unknown {
  if (typeof value === 'string') return renderTemplate(value, context)
  if (Array.isArray(value)) return value.map((item) => renderDeep(item, context))
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderDeep(item, context)]))
  }
  return value
}
