import { execFile, spawn } from 'node:child_process'
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** The repository root. */
const ROOT = join(import.meta.dirname, '../..')

/**
 * `src/` compiled by the shipped build's own tsconfig, for tests that must run what users run: plain `node` on
 * compiled JavaScript, with Node's own ESM loader and CommonJS interop instead of vitest's or tsx's. It lands in
 * `.tmp/compiled-…/dist` beside a copy of package.json (the CLI reads its version from `../package.json`), inside
 * the repository so Node finds `node_modules` from it as it does from `dist/`.
 */
export class CompiledBuild {
  private constructor(
    private readonly root: string,
    /** The compiled `src/`. */
    readonly dir: string,
  ) {}

  /** Compiles `src/` (about 10 s on the 2-core CI machine). */
  static async build(): Promise<CompiledBuild> {
    const root = join(ROOT, '.tmp', `compiled-${process.pid}-${Date.now()}`)
    const dir = join(root, 'dist')
    mkdirSync(dir, { recursive: true })
    copyFileSync(join(ROOT, 'package.json'), join(root, 'package.json'))
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc')
    const args = [
      tsc,
      '-p',
      join(ROOT, 'tsconfig.build.json'),
      '--outDir',
      dir,
      '--declaration',
      'false',
      '--sourceMap',
      'false',
    ]
    await new Promise<void>((resolve, reject) =>
      execFile(process.execPath, args, { cwd: ROOT }, (error, stdout, stderr) =>
        error ? reject(new Error(`tsc failed:\n${stdout}${stderr}`)) : resolve(),
      ),
    )
    return new CompiledBuild(root, dir)
  }

  /**
   * Runs `script` (ES module source; import compiled modules relative to the build, e.g. `./devices/index.js`) under
   * plain `node` and resolves with what it printed. Rejects with its output when it exits non-zero.
   */
  run(name: string, script: string, env: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string }> {
    const file = join(this.dir, `${name}.mjs`)
    writeFileSync(file, script)
    return new Promise((resolve, reject) =>
      execFile(process.execPath, [file], { env: { ...process.env, ...env } }, (error, stdout, stderr) =>
        error ? reject(new Error(`node ${name}.mjs failed:\n${stdout}${stderr}`)) : resolve({ stdout, stderr }),
      ),
    )
  }

  /** The argv of the compiled CLI, `node <build>/cli/index.js <args>`. */
  cli(...args: string[]): string[] {
    return [process.execPath, join(this.dir, 'cli/index.js'), ...args]
  }

  /** Runs the compiled CLI to its end. */
  runCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const [node, ...argv] = this.cli(...args)
    return new Promise((resolve) =>
      execFile(node!, argv, { env: { ...process.env, NO_COLOR: '1' } }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      ),
    )
  }

  /** Spawns the compiled CLI (for long-running commands: simulators, the daemon). */
  spawnCli(...args: string[]) {
    const [node, ...argv] = this.cli(...args)
    return spawn(node!, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true })
  }
}
