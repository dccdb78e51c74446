/**
 * Keeps the plan of the house true (run by `npm run lint`):
 *
 * 1. No folder-level import cycle in `src/` and `workers/`. A folder may import its own
 *    ancestors and descendants; two unrelated folders never import each other, directly or
 *    round a longer loop.
 * 2. No source file over MAX_LINES lines.
 * 3. Layers: each top folder imports only the folders its row of LAYERS names (the
 *    isomorphic core imports no host; a host imports no other host), and inside the core a
 *    folder imports only folders below it in CORE_STACK.
 * 4. Barrels: a file that reaches into another folder of the core that has an `index.ts`
 *    imports through that `index.ts`, not its internal files. A dynamic `import()` may name
 *    one module: it marks a chunk that loads on demand, which a whole barrel would defeat.
 *
 * Written here rather than taken from a dependency-graph tool: the rules are ours (folder
 * ancestry is free, barrels are per folder), the graph comes from TypeScript's own
 * `preProcessFile`, and the whole check runs in well under a second.
 *
 *   node --import tsx scripts/check-layout.ts
 */
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs'
import { dirname, join, normalize, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

/** A file past this many lines has taken on a second job (STYLE.md: a few hundred lines at most). */
const MAX_LINES = 500
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SCANNED = ['src', 'workers']

/**
 * What each top folder may import besides itself. `src/types` holds ambient shims only.
 * core: isomorphic; super-node and browser: the two hosts; app: the page over the browser
 * host; cli: the command over the super node; workers: entry files.
 */
const LAYERS: Record<string, string[]> = {
  'src/core': ['src/types'],
  'src/super-node': ['src/core', 'src/types'],
  'src/browser': ['src/core', 'src/types'],
  'src/app': ['src/core', 'src/browser', 'src/types'],
  'src/cli': ['src/core', 'src/super-node', 'src/types'],
  workers: ['src/core', 'src/browser', 'src/types'],
  'src/types': []
}

/**
 * The core's folders, lowest first: each may import only those before it. A new folder gets
 * its place here, which is where docs/architecture.md says it sits.
 */
const CORE_STACK = ['sandbox', 'access', 'pricing', 'registry', 'node', 'drive', 'ledger', 'links', 'invoke', 'gateway', 'attest', 'reputation', 'roles', 'pinning', 'catalogue', 'keys']

function walk (root: string, dir: string, out: string[] = []): string[] {
  if (!existsSync(join(root, dir))) return out
  for (const name of readdirSync(join(root, dir))) {
    const rel = join(dir, name)
    if (statSync(join(root, rel)).isDirectory()) walk(root, rel, out)
    else if (rel.endsWith('.ts')) out.push(rel.split(sep).join('/'))
  }
  return out
}

function topFolder (file: string): string {
  const parts = file.split('/')
  return parts[0] === 'src' ? `src/${parts[1] ?? ''}` : parts[0] ?? ''
}

function related (a: string, b: string): boolean {
  return a === b || a.startsWith(b + '/') || b.startsWith(a + '/')
}

/** The core folder a file belongs to (`src/core/ledger`), or undefined for the core's root files. */
function coreFolder (file: string): string | undefined {
  const parts = file.split('/')
  if (parts[0] !== 'src' || parts[1] !== 'core' || parts.length < 4) return undefined
  return parts.slice(0, 3).join('/')
}

export interface Finding { rule: 'cycle' | 'size' | 'layer' | 'barrel', message: string }

/** Runs every check over the repository at `root`; returns what breaks a rule. */
export function checkLayout (root = ROOT): Finding[] {
  const findings: Finding[] = []
  const files = SCANNED.flatMap(d => walk(root, d))
  const edges = new Map<string, Map<string, string>>()

  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8')
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
    if (lines > MAX_LINES) findings.push({ rule: 'size', message: `${file}: ${lines} lines (at most ${MAX_LINES})` })
    if (file.endsWith('.d.ts')) continue

    const from = dirname(file)
    for (const ref of ts.preProcessFile(text, true, true).importedFiles) {
      if (!ref.fileName.startsWith('.')) continue
      const target = normalize(join(from, ref.fileName)).split(sep).join('/')
      if (!existsSync(join(root, target))) continue
      const to = dirname(target)

      const allowed = LAYERS[topFolder(file)]
      const targetTop = topFolder(target)
      if (allowed === undefined) findings.push({ rule: 'layer', message: `${file}: its folder ${topFolder(file)} has no row in LAYERS` })
      else if (targetTop !== topFolder(file) && !allowed.includes(targetTop)) {
        findings.push({ rule: 'layer', message: `${file} imports ${target}: ${topFolder(file)} may import only ${allowed.join(', ') || 'itself'}` })
      }

      const fromCore = coreFolder(file)
      const toCore = coreFolder(target)
      if (fromCore !== undefined && toCore !== undefined && fromCore !== toCore) {
        const a = CORE_STACK.indexOf(fromCore.slice('src/core/'.length))
        const b = CORE_STACK.indexOf(toCore.slice('src/core/'.length))
        if (a < 0) findings.push({ rule: 'layer', message: `${file}: ${fromCore} has no place in CORE_STACK` })
        else if (b < 0 || b > a) findings.push({ rule: 'layer', message: `${file} imports ${target}: ${fromCore} sits below ${toCore} in CORE_STACK` })
      }

      const owner = coreFolder(target)
      const dynamic = /import\(\s*$/.test(text.slice(Math.max(0, ref.pos - 40), ref.pos))
      if (owner !== undefined && !dynamic && !file.startsWith(owner + '/') && !target.endsWith('/index.ts') && existsSync(join(root, owner, 'index.ts'))) {
        findings.push({ rule: 'barrel', message: `${file} imports ${target}: import through ${owner}/index.ts` })
      }

      if (related(from, to)) continue
      let out = edges.get(from)
      if (out === undefined) edges.set(from, out = new Map())
      if (!out.has(to)) out.set(to, `${file} -> ${target}`)
    }
  }

  for (const cycle of findCycles(edges)) {
    const steps = cycle.map((f, i) => edges.get(f)?.get(cycle[(i + 1) % cycle.length] ?? '') ?? f)
    findings.push({ rule: 'cycle', message: `folders ${[...cycle, cycle[0]].join(' -> ')}\n      ${steps.join('\n      ')}` })
  }
  return findings
}

/** One cycle per strongly connected component of more than one folder (Tarjan). */
function findCycles (edges: Map<string, Map<string, string>>): string[][] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const components: string[][] = []
  let next = 0
  const nodes = new Set<string>([...edges.keys(), ...[...edges.values()].flatMap(m => [...m.keys()])])

  const visit = (v: string): void => {
    index.set(v, next); low.set(v, next); next++
    stack.push(v); onStack.add(v)
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0)) } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0))
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = []
      let w: string | undefined
      do { w = stack.pop(); if (w !== undefined) { onStack.delete(w); component.push(w) } } while (w !== undefined && w !== v)
      if (component.length > 1) components.push(component)
    }
  }
  for (const v of nodes) if (!index.has(v)) visit(v)

  // a shortest loop inside each component, to print as the finding
  return components.map(component => {
    const inside = new Set(component)
    const start = component[0] ?? ''
    const prev = new Map<string, string>()
    const queue = [start]
    for (let i = 0; i < queue.length; i++) {
      const v = queue[i] ?? ''
      for (const w of edges.get(v)?.keys() ?? []) {
        if (!inside.has(w)) continue
        if (w === start) {
          const path = [v]
          while (path[0] !== start) path.unshift(prev.get(path[0] ?? '') ?? start)
          return path
        }
        if (!prev.has(w)) { prev.set(w, v); queue.push(w) }
      }
    }
    return component
  })
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === normalize(process.argv[1])) {
  const findings = checkLayout()
  for (const f of findings) console.error(`${f.rule}: ${f.message}`)
  if (findings.length > 0) {
    console.error(`\ncheck-layout: ${findings.length} finding(s); see docs/architecture.md for the layers`)
    process.exit(1)
  }
  console.log(`check-layout: ${relative(process.cwd(), ROOT) || '.'} keeps its layers, barrels and file sizes`)
}
