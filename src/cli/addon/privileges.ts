import { chownSync, readFileSync } from 'node:fs'
import { CliError } from '../errors.js'

/** A system user's ids. */
export interface SystemUser {
  readonly name: string
  readonly uid: number
  readonly gid: number
}

/** Looks `name` up in `passwdFile` (the container has no NSS service beyond the file). */
export function lookupUser(name: string, passwdFile = '/etc/passwd'): SystemUser {
  for (const line of readFileSync(passwdFile, 'utf8').split('\n')) {
    const [user, , uid, gid] = line.split(':')
    if (user === name && uid !== undefined && gid !== undefined) {
      return { name, uid: Number(uid), gid: Number(gid) }
    }
  }
  throw new CliError(`there is no user '${name}' in ${passwdFile} to run the daemon as`)
}

/**
 * Makes `paths` belong to `user`, then turns this process into `user` for good: supplementary groups, group,
 * then user (in that order: once the uid is not 0, the others can no longer be changed). Must run as root.
 */
export function becomeUser(user: SystemUser, paths: readonly string[]): void {
  const { setgroups, setgid, setuid } = process
  if (!setgroups || !setgid || !setuid) throw new CliError('this platform cannot switch users (no setuid)')
  for (const path of paths) chownSync(path, user.uid, user.gid)
  // Only the user's own group: root's supplementary groups must not come along, and the daemon needs no other.
  setgroups([user.gid])
  setgid(user.gid)
  setuid(user.uid)
  if (process.getuid?.() !== user.uid || process.getgid?.() !== user.gid) {
    throw new CliError(`could not switch to user ${user.name} (${user.uid}:${user.gid})`)
  }
}
