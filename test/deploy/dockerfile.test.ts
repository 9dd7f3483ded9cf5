import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { mapPaths, replayDockerfile } from './dockerfile.js'

const dirs: string[] = []

/** A build context holding `files`, and an empty workspace for the replay. */
function context(files: Record<string, string>): { context: string; workspace: string } {
  const root = mkdtempSync(join(tmpdir(), 'genlock-replay-'))
  dirs.push(root)
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, 'context', path, '..'), { recursive: true })
    writeFileSync(join(root, 'context', path), text)
  }
  mkdirSync(join(root, 'workspace'))
  return { context: join(root, 'context'), workspace: join(root, 'workspace') }
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('replaying a Dockerfile without Docker', () => {
  it('copies folders by content and files into folders, runs the script steps, and maps image paths', async () => {
    const { context: ctx, workspace } = context({
      Dockerfile: [
        'FROM base AS build',
        'WORKDIR /build',
        'COPY src src',
        'COPY make.sh ./',
        'RUN sh make.sh',
        'FROM base',
        'ENV PATH=/app/bin:$PATH',
        'WORKDIR /app',
        'COPY --from=build /build/out ./',
        'USER node',
      ].join('\n'),
      'src/a.txt': 'A',
      'make.sh': 'mkdir -p out/bin && cp src/a.txt out/bin/a.txt\n',
    })
    const stages = await replayDockerfile(join(ctx, 'Dockerfile'), ctx, workspace)
    const runtime = stages[1]!
    expect(readFileSync(join(runtime.root, 'app/bin/a.txt'), 'utf8')).toBe('A')
    expect(runtime.settings.get('USER')).toEqual(['node'])
    expect(mapPaths(runtime, runtime.env.PATH!).split(':')[0]).toBe(join(runtime.root, 'app/bin'))
  })

  it('refuses a COPY of something .dockerignore leaves out of the context, as docker build would fail', async () => {
    const { context: ctx, workspace } = context({
      Dockerfile: 'FROM base\nCOPY test/x.txt ./\n',
      '.dockerignore': '# tests stay out\ntest\n',
      'test/x.txt': 'x',
    })
    await expect(replayDockerfile(join(ctx, 'Dockerfile'), ctx, workspace)).rejects.toThrow(
      /Dockerfile:2: COPY source test\/x\.txt is left out of the context by \.dockerignore/,
    )
  })

  it('refuses a RUN step that is not a script taking relative paths, naming its line', async () => {
    const { context: ctx, workspace } = context({ Dockerfile: 'FROM base\nRUN useradd genlock\n' })
    await expect(replayDockerfile(join(ctx, 'Dockerfile'), ctx, workspace)).rejects.toThrow(
      /Dockerfile:2: only 'sh <script> <args>' RUN steps can be replayed/,
    )
    expect(existsSync(join(workspace, 'stage0'))).toBe(true)
  })
})
