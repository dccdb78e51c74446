/**
 * The example that reads a drive, called as its README says: the README's own shell lines
 * (create a drive, put the sample folder, pin it, invoke with --mount) run against a super
 * node whose first start published the examples, and the output is the one the README
 * documents. The lines run as written but for `npx shadw` (this checkout's bin/shadw.js) and
 * the node's address (`--node`: the README's default port may be taken here).
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
const NETWORKED = /^node \S+ (invoke|drive (put|pin))\b/

function bash (script: string, env: NodeJS.ProcessEnv): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise(resolve => {
    execFile('bash', ['-euo', 'pipefail', '-c', script], { cwd: ROOT, env, timeout: 180_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
    })
  })
}

describe('examples/tree-count over a mounted drive', () => {
  it('the README\'s lines put the sample folder into a drive, pin it and count it on the swarm, printing the documented output; the receipt names the drive', { timeout: 240_000 }, async () => {
    const readme = await readFile(join(EXAMPLES_ROOT, 'tree-count', 'README.md'), 'utf8')
    const documented = /## Documented example\n[\s\S]*?```\n(.*)\n```/.exec(readme)?.[1]
    const block = /## Call it\n[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1]
    if (documented === undefined || block === undefined) throw new Error('tree-count README: no documented output or no sh block under "Call it"')
    expect(block).toContain('--mount $D:/sample::/data')

    // the user's home: `shadw examples --key` reads the node's storage from its default place
    const home = await tempDir('shadw-user-')
    const env = { ...process.env, XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data') }
    const storage = join(home, 'data', 'shadw', 'super-node')
    await mkdir(storage, { recursive: true })
    const published = await publishExamples(storage)
    const node = await startSuperNode({ storage, workers: 1 })
    const url = node.info.appUrl

    const lines = block.split('\n')
      .map(l => l.replace(/\s+#.*$/, '').trimEnd())
      .filter(l => l !== '')
      .map(l => l.replaceAll('npx shadw', `node ${BIN}`))
      .map(l => NETWORKED.test(l) ? `${l} --node ${url}` : l)
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
})
