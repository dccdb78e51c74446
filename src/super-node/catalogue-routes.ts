/**
 * The catalogue's HTTP API on a super node: `GET /api/functions?q=TERM&limit=N&cursor=C`
 * (one page of the functions this node knows of) and `GET /api/function?ref=REF` (one
 * function in full: entry, verified manifest, versions). JSON; query values are bounded and a
 * bad one is answered 400 with a typed error.
 */
import type { IncomingMessage } from 'node:http'
import type { Catalogue, CatalogueFunction, CataloguePage } from '../core/catalogue/index.ts'
import { ShadwError } from '../core/errors.ts'
import { parseFunctionRef } from '../core/registry/index.ts'
import type { AppServer } from './app-server.ts'

/** A search term is at most this long. */
const MAX_QUERY_LENGTH = 100
/** Largest page; the index refuses more too. */
const MAX_LIMIT = 100
/** Cursors are `name/publisher`: at most a 64-character name, a slash and a 64-character key. */
const MAX_CURSOR_LENGTH = 129
/** A function reference with a range is at most this long. */
const MAX_REF_LENGTH = 300

function param (url: URL, name: string, max: number): string | null {
  const v = url.searchParams.get(name)
  if (v !== null && v.length > max) throw ShadwError.INVALID_ARGUMENT(`${name} is longer than ${max} characters`)
  return v
}

/** `GET /api/functions`. */
export function searchRoute (catalogue: Catalogue): (req: IncomingMessage, url: URL) => CataloguePage {
  return (_req, url) => {
    const q = param(url, 'q', MAX_QUERY_LENGTH) ?? ''
    const limitText = param(url, 'limit', 3)
    const limit = limitText === null ? undefined : Number(limitText)
    if (limit !== undefined && (!/^\d+$/.test(limitText ?? '') || limit < 1 || limit > MAX_LIMIT)) throw ShadwError.INVALID_ARGUMENT(`limit must be 1-${MAX_LIMIT}`)
    const cursor = param(url, 'cursor', MAX_CURSOR_LENGTH)
    return catalogue.search(q.trim(), { ...(limit === undefined ? {} : { limit }), cursor })
  }
}

/** `GET /api/function?ref=PUBLISHER/NAME[@RANGE]`. */
export function functionRoute (catalogue: Catalogue): (req: IncomingMessage, url: URL) => Promise<CatalogueFunction> {
  return async (_req, url) => {
    const ref = param(url, 'ref', MAX_REF_LENGTH)
    if (ref === null) throw ShadwError.INVALID_ARGUMENT('ref is required: PUBLISHER/NAME[@RANGE]')
    return await catalogue.lookup(parseFunctionRef(ref))
  }
}

/** Mounts both routes. */
export function mountCatalogue (app: AppServer, catalogue: Catalogue): void {
  app.route('/api/functions', searchRoute(catalogue))
  app.route('/api/function', functionRoute(catalogue))
}
