#!/usr/bin/env node
/** The `genlock` executable (package.json `bin`). */
import { createProgram } from './program.js'

const program = await createProgram(process.argv)
await program.parseAsync(process.argv)
