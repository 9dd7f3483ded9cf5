#!/usr/bin/env node
/** The `genlock` executable (package.json `bin`). */
import { createProgram } from './program.js'

await createProgram().parseAsync(process.argv)
