import type { Command } from 'commander'
import { hashPassword } from '../config/password-hash.js'
import { action, CliError } from './errors.js'

/**
 * `genlock hash-password`: reads a password (typed twice without echo on a terminal, or from stdin) and prints its
 * hash for `mqtt.users[].password_hash`. Never from an argument: arguments end up in shell history and `ps`.
 */
export function addHashPasswordCommand(program: Command): void {
  program
    .command('hash-password')
    .description("print a password's hash for mqtt.users[].password_hash (the embedded broker's logins)")
    .addHelpText(
      'after',
      '\nExamples:\n  $ genlock hash-password                      # asks for it twice\n' +
        '  $ printf \'%s\' "$HA_MQTT_PASSWORD" | genlock hash-password\n\n' +
        'Then, in config.yaml:\n  mqtt:\n    users:\n      - { username: homeassistant, password_hash: "$scrypt$ln=14,r=8,p=1$..." }',
    )
    .action(
      action('hash-password', async () => {
        const password = process.stdin.isTTY ? await askTwice() : await readAll(process.stdin)
        if (password.length === 0) throw new CliError('the password is empty')
        process.stdout.write(`${await hashPassword(password)}\n`)
      }),
    )
}

/** Everything on `input`, without one trailing newline (what `echo` adds). */
async function readAll(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of input) chunks.push(Buffer.from(chunk as Buffer))
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
}

async function askTwice(): Promise<string> {
  const first = await ask('Password: ')
  const second = await ask('Again: ')
  if (first !== second) throw new CliError('the two passwords differ')
  return first
}

/** One line from the terminal with echo off. */
function ask(prompt: string): Promise<string> {
  process.stderr.write(prompt)
  const stdin = process.stdin
  stdin.setRawMode(true)
  stdin.setEncoding('utf8')
  stdin.resume()
  let typed = ''
  return new Promise((resolve, reject) => {
    const onData = (data: string) => {
      for (const char of data) {
        if (char === '\r' || char === '\n') {
          finish()
          return resolve(typed)
        }
        if (char === '\u0003') {
          finish()
          return reject(new CliError('cancelled'))
        }
        if (char === '\u007f' || char === '\b') typed = typed.slice(0, -1)
        else if (char >= ' ') typed += char
      }
    }
    const finish = () => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      process.stderr.write('\n')
    }
    stdin.on('data', onData)
  })
}
