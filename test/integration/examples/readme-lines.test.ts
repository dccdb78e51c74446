/**
 * The examples called as their READMEs say: each README's own shell lines run against a super
 * node whose first start published the examples, and print what the README says they print
 * (a `# …` comment after the line, or the documented output). The lines run as written but
 * for `npx shadw` (this checkout's bin/shadw.js) and the node's address (`--node`: the
 * README's default port may be taken here). tree-count's lines make a drive of its sample
 * folder, pin it and count it through a mount.
 */
import { execFile } from 'node:child_process'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { EXAMPLES_ROOT, publishExamples } from '../../../src/cli/examples-publish.ts'
import type { SignedReceipt } from '../../../src/core/ledger/index.ts'
import { startSuperNode, tempDir } from '../../helpers/super-node.ts'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const BIN = fileURLToPath(new URL('../../../bin/shadw.js', import.meta.url))
/** The networked commands of the README's lines: they are pointed at the test's node. */
const NETWORKED = /(^|\| )node \S+ (invoke|drive (put|pin))\b/

/** A README's `sh` block under "Call it", as lines to run here (comments kept apart). */
function callLines (readme: string, url: string): Array<{ line: string, says: string | undefined }> {
  const block = /## Call it\n[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1]
  if (block === undefined) throw new Error('no sh block under "Call it"')
  return block.split('\n').filter(l => l.trim() !== '').map(l => {
    const says = /\s+#\s+(.*)$/.exec(l)?.[1]
    const line = l.replace(/\s+#.*$/, '').trimEnd().replaceAll('npx shadw', `node ${BIN}`)
    return { line: NETWORKED.test(line) ? `${line} --node ${url}` : line, says }
  })
}

function bash (script: string, env: NodeJS.ProcessEnv): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise(resolve => {
    execFile('bash', ['-euo', 'pipefail', '-c', script], { cwd: ROOT, env, timeout: 180_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
    })
  })
}

describe('the examples\' READMEs', () => {
  it('tree-count: the README\'s lines put the sample folder into a drive, pin it and count it on the swarm, printing the documented output; the receipt names the drive', { timeout: 240_000 }, async () => {
    const readme = await readFile(join(EXAMPLES_ROOT, 'tree-count', 'README.md'), 'utf8')
    const documented = /## Documented example\n[\s\S]*?```\n(.*)\n```/.exec(readme)?.[1]
    if (documented === undefined) throw new Error('tree-count README: no documented output')
    expect(readme).toContain('--mount $D:/sample::/data\n')

    // the user's home: `shadw examples --key` reads the node's storage from its default place
    const home = await tempDir('shadw-user-')
    const env = { ...process.env, XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data') }
    const storage = join(home, 'data', 'shadw', 'super-node')
    await mkdir(storage, { recursive: true })
    const published = await publishExamples(storage)
    const node = await startSuperNode({ storage, workers: 1 })
    const url = node.info.appUrl

    const lines = callLines(readme, url).map(l => l.line)
    const last = lines.at(-1) as string
    expect(last).toMatch(/^node \S+ invoke \$P\/tree-count@1 --mount/)
    const run = await bash([...lines, `${last} --json > "$XDG_DATA_HOME/receipts.json"`, 'echo "$P $D" > "$XDG_DATA_HOME/refs"'].join('\n'), env)
    expect(run.code).toBe(0)
    // drive put and pin print their lines first; the invoke's output is the last
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe(documented)

    const [publisher, drive] = (await readFile(join(home, 'data', 'refs'), 'utf8')).trim().split(' ') as [string, string]
    expect(publisher).toBe(published.publisher)
    const doc = JSON.parse(await readFile(join(home, 'data', 'receipts.json'), 'utf8')) as { output: string, receipts: SignedReceipt[] }
    expect(doc.output).toBe(`${documented}\n`)
    expect(doc.receipts.map(r => ({ executor: r.executor, drives: r.mounts?.map(m => m.drive) }))).toEqual([{ executor: node.info.publicKey, drives: [drive] }])
  })
  it('every other example: each line of its README that says what it prints prints that', { timeout: 600_000 }, async () => {
    const home = await tempDir('shadw-user-')
    const env = { ...process.env, XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data') }
    const storage = join(home, 'data', 'shadw', 'super-node')
    await mkdir(storage, { recursive: true })
    const published = await publishExamples(storage)
    const node = await startSuperNode({ storage, workers: 1 })
    let checked = 0
    for (const { example } of published.refs.filter(r => r.example.name !== 'tree-count')) {
      const lines = callLines(await readFile(join(example.dir, 'README.md'), 'utf8'), node.info.appUrl)
      const setup = lines.filter(l => l.line.startsWith('P='))
      expect({ name: example.name, setup: setup.length }).toEqual({ name: example.name, setup: 1 })
      for (const { line, says } of lines) {
        // a line that writes a file, or says what it does in words, is run; its output is not compared
        const exact = says !== undefined && !line.includes('>') && !/^(the|a|an) /.test(says)
        // a file it writes goes to the test's directory, not the checkout
        const run = await bash(`${(setup[0] as { line: string }).line}\n${line.replace(/ > (\S+)$/, ' > "$XDG_DATA_HOME/$1"')}`, env)
        expect({ name: example.name, line, code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ name: example.name, line, code: 0, stderr: '' })
        if (exact) {
          expect({ name: example.name, line, stdout: run.stdout.trimEnd() }).toEqual({ name: example.name, line, stdout: says })
          checked++
        }
        if (says === 'the documented output above') {
          expect({ name: example.name, stdout: run.stdout }).toEqual({ name: example.name, stdout: new TextDecoder().decode(example.output) })
          checked++
        }
      }
    }
    // sha256, base64, rot13, json-canonical and word-count say what they print
    expect(checked).toBe(5)
  })
})
