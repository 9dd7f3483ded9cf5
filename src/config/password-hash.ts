/**
 * Password hashes for the embedded broker's logins (`mqtt.users[].password_hash`), with node's crypto.scrypt, in
 * the PHC string format that passlib and the argon2/scrypt tools use:
 *
 *   $scrypt$ln=<log2 N>,r=<block size>,p=<parallelism>$<salt, base64 without padding>$<hash, base64 without padding>
 *
 * `genlock hash-password` prints one; the README's Security section has a node one-liner that does the same
 * (ln=14, r=8, p=1, a 16-byte salt and a 32-byte hash).
 */
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'

/** A parsed `$scrypt$...` string. */
export interface PasswordHash {
  /** log2 of scrypt's cost N. */
  readonly ln: number
  readonly r: number
  readonly p: number
  readonly salt: Buffer
  readonly hash: Buffer
}

/**
 * Cost of new hashes: N = 2^14, r = 8 takes 16 MiB and about 50 ms per check here (a few times that on a Pi).
 * OWASP's 2^17 would take 128 MiB per check, half the unit's MemoryMax, for every MQTT client that connects.
 */
const NEW_HASH = { ln: 14, r: 8, p: 1, saltBytes: 16, hashBytes: 32 } as const

/** Limits on hashes read from a config: a bigger cost would let one login exhaust the daemon's memory or CPU. */
const MAX_LN = 16
const MAX_R = 16
const MAX_P = 4

const FORMAT = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/

/**
 * What is wrong with `text` as a password hash, or undefined when it is one genlock can check.
 *
 * @example
 * passwordHashProblem('hunter2') // 'must be a $scrypt$ln=…,r=…,p=…$salt$hash string from `genlock hash-password`, …'
 */
export function passwordHashProblem(text: string): string | undefined {
  const match = FORMAT.exec(text)
  if (!match) return 'must be a $scrypt$ln=…,r=…,p=…$salt$hash string from `genlock hash-password`, not a password'
  const [ln, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])]
  if (ln < 10 || ln > MAX_LN) return `ln must be 10 to ${MAX_LN} (N = 2^ln), not ${ln}`
  if (r < 1 || r > MAX_R) return `r must be 1 to ${MAX_R}, not ${r}`
  if (p < 1 || p > MAX_P) return `p must be 1 to ${MAX_P}, not ${p}`
  if (Buffer.from(match[4]!, 'base64').length < 8) return 'the salt must be at least 8 bytes'
  if (Buffer.from(match[5]!, 'base64').length < 16) return 'the hash must be at least 16 bytes'
  return undefined
}

/** Parses a hash string; throws with {@link passwordHashProblem}'s message if it is not one. */
export function parsePasswordHash(text: string): PasswordHash {
  const problem = passwordHashProblem(text)
  if (problem) throw new Error(`not a password hash: ${problem}`)
  const match = FORMAT.exec(text)!
  return {
    ln: Number(match[1]),
    r: Number(match[2]),
    p: Number(match[3]),
    salt: Buffer.from(match[4]!, 'base64'),
    hash: Buffer.from(match[5]!, 'base64'),
  }
}

/** A new hash of `password` with a random salt, as a `$scrypt$...` string for `mqtt.users[].password_hash`. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(NEW_HASH.saltBytes)
  const hash = await derive(password, { ...NEW_HASH, salt, hash: Buffer.alloc(NEW_HASH.hashBytes) })
  return `$scrypt$ln=${NEW_HASH.ln},r=${NEW_HASH.r},p=${NEW_HASH.p}$${base64(salt)}$${base64(hash)}`
}

/** Whether `password` is the one `hash` was made from; compares in constant time. */
export async function verifyPassword(password: string | Buffer, hash: PasswordHash): Promise<boolean> {
  const derived = await derive(password, hash)
  return timingSafeEqual(derived, hash.hash)
}

function derive(password: string | Buffer, hash: PasswordHash): Promise<Buffer> {
  const N = 2 ** hash.ln
  const options: ScryptOptions = { N, r: hash.r, p: hash.p, maxmem: 128 * N * hash.r * hash.p + 1024 * 1024 }
  return new Promise((resolve, reject) =>
    scrypt(password, hash.salt, hash.hash.length, options, (error, key) => (error ? reject(error) : resolve(key))),
  )
}

function base64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '')
}

/** One login the embedded broker accepts: genlock's own (a password from the environment) or a hashed one. */
export type BrokerLogin =
  | { readonly username: string; readonly password: string }
  | { readonly username: string; readonly passwordHash: string }

/**
 * A check of MQTT credentials against `logins`, for the embedded broker. An unknown username costs the same scrypt
 * work as a known one, so timing does not tell which usernames exist.
 *
 * @example
 * const check = loginChecker([
 *   { username: 'genlock', password: env.GENLOCK_MQTT_PASSWORD },
 *   { username: 'ha', passwordHash },
 * ])
 * await check('ha', Buffer.from('secret')) // true or false
 */
export function loginChecker(logins: readonly BrokerLogin[]): (username: string, password: Buffer) => Promise<boolean> {
  const byName = new Map(logins.map((login) => [login.username, login]))
  const decoy = { ...NEW_HASH, salt: randomBytes(NEW_HASH.saltBytes), hash: randomBytes(NEW_HASH.hashBytes) }
  return async (username, password) => {
    const login = byName.get(username)
    if (login && 'password' in login) {
      // Compared as digests, so the comparison takes the same time whatever the lengths.
      const digest = (value: Buffer | string) => createHash('sha256').update(value).digest()
      return timingSafeEqual(digest(password), digest(login.password))
    }
    const hash = login ? parsePasswordHash(login.passwordHash) : decoy
    const matches = await verifyPassword(password, hash)
    return login !== undefined && matches
  }
}
