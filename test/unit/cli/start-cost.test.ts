/**
 * What a command loads before it answers is most of its start time: `shadw run` once took
 * ~4 s because importing a default port pulled in the whole super node (the swarm, drives,
 * Lit, viem, siwe). This walks the static imports (not `import type`, not `import()`) from a
 * command's entry and names the heavy packages it reaches, so such a regression fails here
 * rather than showing up only as a slow bench figure.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url))

/** Packages that belong to the network, storage and access paths, never to a local run. */
const HEAVY = ['hyperswarm', 'hyperdht', 'hyperdrive', 'hypercore', 'corestore', 'hyperbee', 'siwe', 'viem', 'ethers', '@lit-protocol', '@solana', '@hyperswarm/dht-relay', '@hyperswarm/secret-stream', 'fastify', 'ws']

/** Bound on the walk; src/ has far fewer files. */
const MAX_FILES = 5000

/**
 * Module specifiers a file loads. Only `import type` is erased: with `verbatimModuleSyntax`
 * (tsconfig.base.json) `import { type X } from 'pkg'` still loads `pkg`.
 */
function valueImports (file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false)
  const out: string[] = []
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st)) {
      if (st.importClause?.isTypeOnly === true) continue
      out.push((st.moduleSpecifier as ts.StringLiteral).text)
    } else if (ts.isExportDeclaration(st) && st.moduleSpecifier !== undefined && !st.isTypeOnly) {
      out.push((st.moduleSpecifier as ts.StringLiteral).text)
    }
  }
  return out
}

/** Every package reached from `entry` by static value imports, with one path to each. */
function reachedPackages (entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>([[entry, [entry]]])
  const packages = new Map<string, string[]>()
  const queue = [entry]
  for (let i = 0; i < queue.length; i++) {
    if (i >= MAX_FILES) throw new Error(`more than ${MAX_FILES} files reached from ${entry}: raise the bound`)
    const file = queue[i] as string
    const path = seen.get(file) as string[]
    for (const spec of valueImports(file)) {
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec)
        if (!existsSync(target) || seen.has(target)) continue
        seen.set(target, [...path, target])
        queue.push(target)
      } else if (!spec.startsWith('node:')) {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0] as string
        if (!packages.has(name)) packages.set(name, [...path.map(p => p.slice(SRC.length)), spec])
      }
    }
  }
  return packages
}

function heavyReached (entry: string): string[] {
  const reached = reachedPackages(join(SRC, entry))
  return [...reached].filter(([name]) => HEAVY.some(h => name === h || name.startsWith(h + '/'))).map(([, path]) => path.join(' → '))
}

describe('what a command loads before it answers', () => {
  it('shadw run of a local module loads no network, storage or access package', () => {
    expect(heavyReached('cli/run.ts')).toEqual([])
  })

  it('shadw help loads none either', () => {
    expect(heavyReached('cli/cli.ts')).toEqual([])
  })

  it('the walk finds what the super node loads (so an empty answer above means something)', () => {
    const heavy = heavyReached('super-node/super-node.ts')
    expect(heavy.some(p => p.endsWith('hyperswarm'))).toBe(true)
    expect(heavy.some(p => p.includes('siwe'))).toBe(true)
  })
})
