/**
 * A `/fn/*` call from a chosen loopback source address (127.0.0.x), so a test can play several
 * HTTP clients against one node: `fetch` cannot pick its source address, `http.request` can.
 */
import { request } from 'node:http'

export interface FnAnswer {
  status: number
  code: string | null
  body: string
}

/** POSTs `input` to `url` (a node's `/fn/...` URL) from `from`, with the call's deadline in ms. */
export async function fnFrom (url: string, input: string, from: string, deadlineMs: number): Promise<FnAnswer> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', localAddress: from, headers: { 'shadw-deadline': String(deadlineMs), 'content-length': Buffer.byteLength(input) } }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => { chunks.push(c) })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, code: (res.headers['shadw-error-code'] as string | undefined) ?? null, body: Buffer.concat(chunks).toString() }) })
      res.on('error', reject)
    })
    req.setTimeout(deadlineMs + 30_000, () => { req.destroy(new Error('no answer')) })
    req.on('error', reject)
    req.end(input)
  })
}
