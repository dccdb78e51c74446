import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { checkLayout } from '../../../scripts/check-layout.ts'

const roots: string[] = []
afterEach(() => { for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true }) })

/** A repository of the given files (path → source) in a fresh temporary directory. */
function tree (files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'shadw-layout-'))
  roots.push(root)
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), text)
  }
  return root
}

const rules = (root: string): string[] => checkLayout(root).map(f => `${f.rule}: ${f.message.split('\n')[0] ?? ''}`)

describe('the layout check', () => {
  it('passes a layered tree with imports through barrels, ancestors and lazy single modules', () => {
    const root = tree({
      'src/core/errors.ts': 'export const E = 1\n',
      'src/core/sandbox/index.ts': "export { run } from './run.ts'\n",
      'src/core/sandbox/run.ts': "import { E } from '../errors.ts'\nexport const run = E\n",
      'src/core/invoke/index.ts': "import { run } from '../sandbox/index.ts'\nexport const call = run\n",
      'src/core/invoke/deep/part.ts': "import { call } from '../index.ts'\nexport const p = call\n",
      'src/super-node/main.ts': "import { call } from '../core/invoke/index.ts'\nexport const m = call\n",
      'src/app/page.ts': "export const lazy = async () => await import('../core/sandbox/run.ts')\n"
    })
    expect(rules(root)).toEqual([])
  })

  it('reports two folders that import each other, round a longer loop too', () => {
    const root = tree({
      'src/core/sandbox/a.ts': "import { b } from '../access/b.ts'\nexport const a = b\n",
      'src/core/access/b.ts': "import { c } from '../pricing/c.ts'\nexport const b = c\n",
      'src/core/pricing/c.ts': "import { a } from '../sandbox/a.ts'\nexport const c = a\n"
    })
    const found = rules(root).filter(r => r.startsWith('cycle'))
    expect(found).toEqual(['cycle: folders src/core/sandbox -> src/core/access -> src/core/pricing -> src/core/sandbox'])
  })

  it('reports a file over 500 lines, and not one of exactly 500', () => {
    const root = tree({
      'src/core/long.ts': 'export const x = 1\n'.repeat(501),
      'src/core/fits.ts': 'export const y = 1\n'.repeat(500)
    })
    expect(rules(root)).toEqual(['size: src/core/long.ts: 501 lines (at most 500)'])
  })

  it('reports the core importing a host, a host importing another host, and a core folder importing one above it', () => {
    const root = tree({
      'src/super-node/s.ts': 'export const s = 1\n',
      'src/browser/b.ts': "import { s } from '../super-node/s.ts'\nexport const b = s\n",
      'src/core/log.ts': "import { s } from '../super-node/s.ts'\nexport const l = s\n",
      'src/core/invoke/i.ts': 'export const i = 1\n',
      'src/core/sandbox/x.ts': "import { i } from '../invoke/i.ts'\nexport const x = i\n"
    })
    expect(rules(root).filter(r => r.startsWith('layer'))).toEqual([
      'layer: src/browser/b.ts imports src/super-node/s.ts: src/browser may import only src/core, src/types',
      'layer: src/core/log.ts imports src/super-node/s.ts: src/core may import only src/types',
      'layer: src/core/sandbox/x.ts imports src/core/invoke/i.ts: src/core/sandbox sits below src/core/invoke in CORE_STACK'
    ])
  })

  it("reports a static import past another core folder's index.ts", () => {
    const root = tree({
      'src/core/sandbox/index.ts': "export { run } from './run.ts'\n",
      'src/core/sandbox/run.ts': 'export const run = 1\n',
      'src/browser/host.ts': "import { run } from '../core/sandbox/run.ts'\nexport const h = run\n"
    })
    expect(rules(root)).toEqual(['barrel: src/browser/host.ts imports src/core/sandbox/run.ts: import through src/core/sandbox/index.ts'])
  })
})
