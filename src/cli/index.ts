#!/usr/bin/env node
/** The `genlock` executable (package.json `bin`). */
import { useCompileCache } from './compile-cache.js'

// Before the command and its dependencies load: they are what the cache saves compiling again.
useCompileCache()
const { createProgram } = await import('./program.js')
const program = await createProgram(process.argv)
await program.parseAsync(process.argv)
