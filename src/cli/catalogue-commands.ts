/**
 * `shadw search` and `shadw show`: the catalogue of a running node, read over its HTTP API
 * (`/api/functions`, `/api/function`), so they answer with what that node has learnt from
 * the swarm, each manifest verified by it.
 */
import { parseArgs } from 'node:util'
import type { CatalogueEntry, CatalogueFunction, CataloguePage } from '../core/catalogue/index.ts'
import { deserializeError, ShadwError } from '../core/errors.ts'
import { DEFAULT_PORT } from '../super-node/defaults.ts'
import { withCloseNames } from './invoke-not-found.ts'

/** Usage lines shown in `shadw help` and by `--help`. */
export const SEARCH_USAGE = `shadw search [TERM] [--limit N] [--cursor C] [--node URL] [--json]
  lists the functions a running node knows of whose name, description or publisher key
  contains TERM (all without one), by name; --node defaults to http://127.0.0.1:${DEFAULT_PORT}/
  exit codes: 0 listed (maybe none), 1 error (the node unreachable, a bad argument), 2 bad usage`
export const SHOW_USAGE = `shadw show <PUBLISHER/NAME[@RANGE]> [--node URL] [--json]
  prints one function as the node verified it: description, ABI, price, access conditions,
  limits, versions, examples (with the line that tries the first one) and README
  exit codes: 0 shown, 1 error (FUNCTION_NOT_FOUND when the node does not know it), 2 bad usage`

/** A page of search results is read whole; more than this is not a node answering us. */
const MAX_RESPONSE_BYTES = 1024 * 1024
/** How long a node has to answer. */
const REQUEST_TIMEOUT_MS = 15_000

type Out = (s: string) => void
const stdout: Out = s => { process.stdout.write(s) }

async function getJson<T> (node: string, path: string): Promise<T> {
  let res: Response
  let url: URL
  try {
    url = new URL(path, node)
  } catch {
    throw ShadwError.INVALID_ARGUMENT(`--node must be a URL such as http://127.0.0.1:${DEFAULT_PORT}/`)
  }
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
  } catch (err) {
    throw ShadwError.NODE_UNREACHABLE(node, err)
  }
  const text = await res.text()
  if (text.length > MAX_RESPONSE_BYTES) throw ShadwError.INVALID_ARGUMENT(`the node answered more than ${MAX_RESPONSE_BYTES} bytes`)
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw ShadwError.NODE_UNREACHABLE(node, new Error(`${url.pathname} answered ${res.status} without JSON: is this a shadw node?`))
  }
  if (!res.ok) throw deserializeError(body)
  return body as T
}

function help (argv: string[], usage: string, out: Out): boolean {
  if (!argv.includes('--help') && !argv.includes('-h')) return false
  out(usage + '\n')
  return true
}

function price (e: CatalogueEntry): string {
  return e.price.base === 0 ? "executor's price" : `from ${e.price.base} µcredits per million fuel`
}

function access (e: CatalogueEntry): string {
  const a = e.access
  return a.public ? 'public' : `${a.conditions} Lit condition(s)${a.chains.length > 0 ? ` on ${a.chains.join(', ')}` : ''}`
}

/** Runs `shadw search [TERM]`. */
export async function searchCommand (argv: string[], out: Out = stdout): Promise<number> {
  if (help(argv, SEARCH_USAGE, out)) return 0
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      node: { type: 'string', default: `http://127.0.0.1:${DEFAULT_PORT}/` },
      limit: { type: 'string' },
      cursor: { type: 'string' },
      json: { type: 'boolean', default: false }
    },
    allowPositionals: true,
    strict: true
  })
  if (positionals.length > 1) throw ShadwError.INVALID_ARGUMENT('expected at most one search term (quote a phrase)')
  const query = new URLSearchParams({ q: positionals[0] ?? '' })
  if (values.limit !== undefined) query.set('limit', values.limit)
  if (values.cursor !== undefined) query.set('cursor', values.cursor)
  const page = await getJson<CataloguePage>(values.node, `/api/functions?${query.toString()}`)
  if (values.json) {
    out(JSON.stringify(page) + '\n')
    return 0
  }
  if (page.functions.length === 0) out(positionals[0] === undefined ? 'no functions known to this node yet\n' : `no function matches ${JSON.stringify(positionals[0])}\n`)
  for (const e of page.functions) {
    out(`${e.name}@${e.version}  ${e.description ?? '(no description)'}\n`)
    out(`  ${e.ref}\n  ${e.abi} · ${price(e)} · ${access(e)} · ${e.holders} executor(s)\n`)
  }
  if (page.next !== null) out(`more: shadw search ${positionals[0] === undefined ? '' : `${JSON.stringify(positionals[0])} `}--cursor ${page.next}\n`)
  return 0
}

/** Runs `shadw show <ref>`. */
export async function showCommand (argv: string[], out: Out = stdout): Promise<number> {
  if (help(argv, SHOW_USAGE, out)) return 0
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      node: { type: 'string', default: `http://127.0.0.1:${DEFAULT_PORT}/` },
      json: { type: 'boolean', default: false }
    },
    allowPositionals: true,
    strict: true
  })
  if (positionals.length !== 1) throw ShadwError.INVALID_ARGUMENT('expected exactly one function reference: PUBLISHER/NAME[@RANGE]')
  const ref = positionals[0] as string
  let fn: CatalogueFunction
  try {
    fn = await getJson<CatalogueFunction>(values.node, `/api/function?${new URLSearchParams({ ref }).toString()}`)
  } catch (err) {
    // as invoke does: a mistyped name is answered with the names the publisher has
    throw await withCloseNames(err, ref, values.node)
  }
  if (values.json) {
    out(JSON.stringify(fn) + '\n')
    return 0
  }
  const { entry: e, manifest: m } = fn
  const l = m.limits
  const lines = [
    `${e.ref}`,
    `  about:     ${m.description ?? '(no description)'}`,
    `  abi:       ${m.abi}, module ${m.size} bytes, sha256 ${m.moduleHash}`,
    `  price:     ${price(e)}`,
    `  access:    ${access(e)}`,
    ...(m.access.length === 0 ? [] : [`  conditions: ${JSON.stringify(m.access)}`, `  auth for:  ${m.authDomains?.join(', ') ?? "each executor's own app domain"}`]),
    `  limits:    fuel ${l.fuel}, memory ${l.memoryPages} pages, deadline ${l.deadlineMs} ms, input ${l.maxInputBytes} B, output ${l.maxOutputBytes} B`,
    `  holders:   ${e.holders} executor(s)`,
    `  versions:  ${fn.versions.map(v => v.yanked ? `${v.version} (yanked)` : v.version).join(', ')}`,
    `  signature: ${fn.signature} (verified by the node)`
  ]
  for (const [i, ex] of (m.examples ?? []).entries()) lines.push(`  example ${i + 1}: ${JSON.stringify(ex.input)} -> ${JSON.stringify(ex.output)}`)
  const first = m.examples?.[0]
  if (first !== undefined) lines.push(`  try it:    printf %s ${shellQuote(first.input)} | shadw invoke ${e.ref} --input -`)
  if (m.readme !== undefined) lines.push('', m.readme.trimEnd())
  out(lines.join('\n') + '\n')
  return 0
}

function shellQuote (s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`
}
