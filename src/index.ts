/** The package root is the gen-lock core: `import genLock, { alwaysResume, LockError } from 'genlock'`. */
export { default } from './lock/index.js'
export * from './lock/index.js'
