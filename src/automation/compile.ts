import { compileAnyCondition } from './condition.js'
import type {
  AutomationDefinition,
  ConditionDefinition,
  MqttTriggerDefinition,
  StepDefinition,
  StepOf,
  TriggerDefinition,
} from './definition.js'
import { compileDeep, compileTemplate, isTemplate, type Condition, type Template } from './expression.js'
import type { LinkedAutomation } from './link.js'
import type { ScheduleSetting } from './schedule.js'
import { logStep, publishStep, waitStep } from './step-action.js'
import { chooseStep, ifStep, repeatStep, stepList } from './step-flow.js'
import { parallelStep } from './step-parallel.js'
import type { CompiledStep, StepCode } from './step-runtime.js'
import { compileSetCommand, setStep } from './step-set.js'
import type { SetCheck } from './trigger-check.js'
import { mapChildSteps } from './step-tree.js'
import { waitForStep } from './step-wait-for.js'
import { compileMqttTrigger, compileTrigger, type CompiledMqttTrigger, type CompiledTrigger } from './trigger-match.js'

/** Everything a run of one automation needs, made once at load: nothing at run time goes back to the files. */
export interface CompiledAutomation {
  readonly definition: AutomationDefinition
  /** Its steps as one generator function, for its own devices. */
  readonly steps: StepCode
  readonly triggers: readonly CompiledTrigger[]
  readonly stops: readonly CompiledTrigger[]
  /** For `on_preempt: { replace }`: the replacing automation's steps compiled for this one's devices. */
  readonly replacement?: CompiledReplacement
  /**
   * Topics to subscribe besides triggers and stops: those of `wait_for` steps, and those expressions read as
   * `last['topic']` / `last_json['topic']` (from jexl's syntax tree).
   */
  readonly watchedTopics: readonly string[]
  /** The topics expressions read as `last['topic']` / `last_json['topic']`: the only ones the hub remembers. */
  readonly lastTopics: readonly string[]
  /**
   * Its top-level `set` steps, checked against a trigger before its run asks for the lock (trigger-check.ts);
   * none under `on_error: continue`, where a failing step does not end the run.
   */
  readonly setChecks: readonly SetCheck[]
}

/** The replacing steps, or why there are none (a preemption then fails the run with that reason). */
export type CompiledReplacement =
  { readonly name: string; readonly steps: StepCode } | { readonly name: string; readonly problem: string }

/**
 * The compile stage: a linked automation → its triggers, steps and replacement as code. `setting` places its
 * schedules: the time zone of `at` and `cron` (default the machine's own), the location of `sun`.
 */
export function compileAutomation(linked: LinkedAutomation, setting: ScheduleSetting = {}): CompiledAutomation {
  const { definition, replacement } = linked
  const compiler = new StepCompiler()
  const triggers = definition.trigger.map((trigger) => compiler.trigger(trigger, setting))
  const stops = definition.stop.map((stop) => compiler.trigger(stop, setting))
  const steps = compiler.list(definition.steps, definition.devices, 'steps')
  const compiled: CompiledAutomation = {
    definition,
    steps,
    triggers,
    stops,
    watchedTopics: [...compiler.topics],
    lastTopics: [...compiler.lastTopics],
    setChecks: definition.onError === 'abort' ? compiler.setChecks : [],
  }
  if (!replacement) return compiled
  const name = typeof definition.onPreempt === 'object' ? definition.onPreempt.replace : ''
  // The replacing automation watches its own topics; this one's subscriptions stay its own.
  const replacing = replacement.ok
    ? { name, steps: new StepCompiler().list(replacement.definition.steps, definition.devices, 'steps') }
    : { name, problem: replacement.problem }
  return { ...compiled, replacement: replacing }
}

/**
 * Compiles steps into generator code, one dispatcher for every kind: nested lists come compiled through
 * `mapChildSteps`, then each kind's runner gets its compiled parts. Every action step is exactly one `yield`
 * (so a preemption lands between steps and `resume` continues at the next one); `if`, `choose` and `repeat`
 * only choose which steps run, with `yield*`. Records every topic the steps wait for or read.
 */
class StepCompiler {
  readonly topics = new Set<string>()
  readonly lastTopics = new Set<string>()
  readonly setChecks: SetCheck[] = []

  /** A step list at `path`; `targets`: the devices a `set` without `device` addresses. */
  list(steps: readonly StepDefinition[], targets: readonly string[], path: string): StepCode {
    return stepList(steps.map((step, i) => this.step(step, targets, `${path}.${i}`)))
  }

  trigger(definition: TriggerDefinition, setting: ScheduleSetting): CompiledTrigger {
    const trigger = compileTrigger(definition, setting)
    if (trigger.condition) this.read(trigger.condition)
    return trigger
  }

  private waitTrigger(definition: MqttTriggerDefinition): CompiledMqttTrigger {
    const trigger = compileMqttTrigger(definition)
    if (trigger.condition) this.read(trigger.condition)
    return trigger
  }

  private step(step: StepDefinition, targets: readonly string[], path: string): CompiledStep {
    const label = `${path} (${step.kind})`
    const nested = mapChildSteps(step, (list, at) =>
      this.list(list, at.devices ?? targets, `${path}.${at.path.join('.')}`),
    )
    return { path, kind: step.kind, label, run: this.code(nested, targets, path, label) }
  }

  private code(step: StepOf<StepCode>, targets: readonly string[], path: string, label: string): StepCode {
    switch (step.kind) {
      case 'set': {
        const command = compileSetCommand(step.values, (source) => this.template(source))
        // Values without a template were checked when the file was parsed: a payload cannot make them wrong.
        if (/^steps\.\d+$/.test(path) && Object.values(step.values).some(isTemplate)) {
          this.setChecks.push({ label, command })
        }
        return setStep(command, step.devices ?? targets, label)
      }
      case 'wait':
        return waitStep(step.ms, label)
      case 'publish':
        return publishStep(this.template(step.topic), this.read(compileDeep(step.payload)), step, label)
      case 'log':
        return logStep(this.template(step.message), step.level, path, label)
      case 'wait_for':
        if (step.trigger) this.topics.add(step.trigger.topic)
        return waitForStep(
          {
            ...(step.trigger ? { trigger: this.waitTrigger(step.trigger) } : {}),
            ...(step.condition === undefined
              ? {}
              : { condition: this.condition(step.condition), conditionSource: step.condition }),
            ...(step.timeout === undefined ? {} : { timeout: step.timeout }),
            onTimeout: step.onTimeout,
          },
          label,
        )
      case 'if':
        return ifStep(this.condition(step.condition), step.then, step.else, label)
      case 'choose':
        return chooseStep(
          step.options.map((option) => ({ when: this.condition(option.when), steps: option.steps })),
          step.default,
          label,
        )
      case 'repeat':
        return repeatStep(
          {
            ...(step.count === undefined
              ? {}
              : { count: typeof step.count === 'number' ? step.count : this.template(step.count) }),
            ...(step.while === undefined ? {} : { while: this.condition(step.while) }),
            ...(step.until === undefined ? {} : { until: this.condition(step.until) }),
            body: step.steps,
          },
          label,
        )
      case 'parallel':
        return parallelStep(step.branches.map((branch) => branch.steps))
    }
  }

  private condition(definition: ConditionDefinition): Condition {
    return this.read(compileAnyCondition(definition))
  }

  private template(source: string): Template {
    return this.read(compileTemplate(source))
  }

  private read<T extends { readonly topicsRead: readonly string[] }>(expression: T): T {
    for (const topic of expression.topicsRead) {
      this.topics.add(topic)
      this.lastTopics.add(topic)
    }
    return expression
  }
}
