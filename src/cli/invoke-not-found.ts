/**
 * "Did you mean" for `shadw invoke` of a function the swarm does not have: the names the
 * publisher does have, from the catalogue of the node the CLI talks to (`--node`, or the
 * local one) or else from the publisher's registry in the local storage, as `inspect` does.
 */
import { get as httpGet } from 'node:http'
import { get as httpsGet } from 'node:https'
import { ShadwError } from '../core/errors.ts'
import { parseFunctionRef } from '../core/registry/index.ts'
import { closeNames } from './close-names.ts'

/** How long the node's catalogue has to answer: the call already failed, so not long. */
const CATALOGUE_TIMEOUT_MS = 5_000
/** A page of the catalogue is read whole; more than this is not a node answering us. */
const MAX_CATALOGUE_BYTES = 1024 * 1024

/** The names the catalogue of the node at `node` lists for `publisher`; none if it does not answer. */
async function catalogueNames (node: string, publisher: string): Promise<string[]> {
  let url: URL
  try {
    url = new URL(`/api/functions?q=${publisher}&limit=100`, node)
  } catch {
    return []
  }
  // Node's own client, as for the node's status: fetch() refuses ports a node may use
  const text = await new Promise<string>(resolve => {
    const req = (url.protocol === 'https:' ? httpsGet : httpGet)(url, { timeout: CATALOGUE_TIMEOUT_MS }, res => {
      if (res.statusCode !== 200) { res.resume(); resolve(''); return }
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (d: Buffer) => {
        size += d.byteLength
        if (size > MAX_CATALOGUE_BYTES) { req.destroy(); resolve(''); return }
        chunks.push(d)
      })
      res.on('end', () => { resolve(Buffer.concat(chunks).toString('utf8')) })
      res.on('error', () => { resolve('') })
    })
    req.on('timeout', () => { req.destroy() })
    req.on('error', () => { resolve('') })
  })
  try {
    const body = JSON.parse(text) as { functions?: Array<{ publisher?: unknown, name?: unknown }> }
    return (body.functions ?? []).filter(f => f.publisher === publisher && typeof f.name === 'string').map(f => f.name as string)
  } catch {
    return []
  }
}

/**
 * `err` with the close names of the function `ref` names, when it is `FUNCTION_NOT_FOUND` and
 * any are close; `err` itself otherwise.
 *
 * @param node the node's HTTP URL, or null when the CLI was given a DHT bootstrap instead
 */
export async function withCloseNames (err: unknown, ref: string, node: string | null): Promise<unknown> {
  if (!(err instanceof ShadwError) || err.code !== 'FUNCTION_NOT_FOUND') return err
  let parsed
  try {
    parsed = parseFunctionRef(ref)
  } catch {
    return err
  }
  let names = node === null ? [] : await catalogueNames(node, parsed.publisher)
  let where = `the catalogue of ${node ?? ''}`
  if (names.length === 0) {
    names = await (await import('./registry-commands.ts')).localFunctionNames(parsed.publisher)
    where = 'the local registry'
  }
  if (names.includes(parsed.name)) return err
  const close = closeNames(parsed.name, names)
  if (close.length === 0) return err
  return new ShadwError('FUNCTION_NOT_FOUND', `no function ${JSON.stringify(parsed.name)} of ${parsed.publisher} on the swarm; did you mean ${close.join(' or ')}? (from ${where}; shadw search ${parsed.publisher.slice(0, 16)} lists them)`, { cause: err, details: { ref, close } })
}
