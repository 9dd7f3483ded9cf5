/**
 * The seed README's Example 1, runnable: party mode cycles a (simulated) bath bulb, the alarm preempts it,
 * and when the alarm ends the party resumes exactly where it stopped.
 *
 *   npx tsx examples/bath-bulb.ts
 */
import genLock, { alwaysResume, call, type TransactionContext } from '../src/index.js'

/** A stand-in bulb whose commands take a few milliseconds, as a real one's round trip would. */
class DemoBulb {
  private color = 'off'
  private brightness = 100

  private async send(line: string): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 5))
    console.log(`${new Date().toISOString().slice(11, 23)}  bath_bulb  ${line}`)
  }

  async setColor(color: string) {
    this.color = color
    await this.send(`color ${color}`)
  }

  async setBrightness(percent: number) {
    this.brightness = percent
    await this.send(`brightness ${percent}%`)
  }

  async getStatus() {
    return `${this.color} at ${this.brightness}%`
  }
}

const bulb = new DemoBulb()
const { newLocker } = genLock()
const partyModeLock = newLocker('bath_bulb', bulb)
const securityLock = newLocker('bath_bulb', bulb, { priority: 2 })

let partying = true
let alarmTripped = false

function* rainbowsTransaction(b: DemoBulb, ctx: TransactionContext) {
  while (partying) {
    yield b.setColor('red')
    yield ctx.sleep(300)
    yield b.setColor('blue')
    yield ctx.sleep(300)
    yield b.setColor('yellow')
    yield ctx.sleep(300)
  }
  return 'party over'
}

function* alarmTransaction(b: DemoBulb, ctx: TransactionContext) {
  while (alarmTripped) {
    yield b.setBrightness(50)
    yield ctx.sleep(150)
    yield b.setBrightness(100)
    yield ctx.sleep(150)
  }
  return yield* call(b.getStatus())
}

const party = alwaysResume(partyModeLock.promise(rainbowsTransaction))
  .then((result) => console.log(`party: ${String(result)}`))
  .catch((err: unknown) => console.error('Bulb broke, rainbow time is over :-(', err))

setTimeout(() => {
  console.log('--- alarm tripped: security preempts party mode')
  alarmTripped = true
  securityLock
    .promise(alarmTransaction)
    .then((status) => console.log(`--- alarm off, bulb status: ${String(status)}; party resumes`))
    .recover((ops) => ops.restart())
    .catch((err: unknown) => console.error('Somebody broke the bulb!!!', err))
}, 1000)
setTimeout(() => (alarmTripped = false), 2000)
setTimeout(() => (partying = false), 3200)

await party
