import { ShadwError, serializeError } from '../core/errors.ts'
import { log } from '../core/log.ts'
import { DEFAULT_DOWNLOAD_TIMEOUT_MS, DEFAULT_GET_TIMEOUT_MS } from '../core/node/index.ts'
import { FunctionLoader, StorageModuleStore } from '../core/registry/index.ts'
import { InvokeEndpoint, MAX_INPUT_BYTES } from '../core/invoke/index.ts'
import { checkInvokeOptions, invokeWhenReady } from '../core/gateway/index.ts'
import { mark } from '../core/trace.ts'
import type { BrowserNode } from './browser-node.ts'
import { opfsStorage } from './opfs-storage.ts'
import { BRIDGE_CHANNEL, expect, parseBridgeMessage, type BridgeEvent, type BridgeMethod, type BridgeRequest, type BridgeResponse } from './bridge-protocol.ts'
import { describeValue } from '../core/describe.ts'
import { DRIVE_PREFIX, driveHandler, driveOpener, driveReply, type DriveOpener } from '../core/drive/index.ts'
import type { LogInfo } from '../core/node/index.ts'
import { SERVICE_LOG_NAMES } from '../core/ledger/index.ts'
import type { ContributionHost } from './contribution-host.ts'
import type { PublisherHost } from './publisher-host.ts'
import type { DriveHost } from './drive-host.ts'

const debug = log('bridge')

/** OPFS directory of the verified-module cache, beside the node's own storage. */
export const MODULE_CACHE_ROOT = 'shadw-modules'

/**
 * Body bytes of one `/drive/*` window over the bridge: large enough that a video streams in
 * few round trips, small enough that a message never holds much of a file.
 */
const DRIVE_WINDOW_BYTES = 1024 * 1024

/** Longest wait a context may ask the node for in one call. */
export const MAX_CALL_TIMEOUT_MS = 60_000

/**
 * Logs the node's own services write, by local name; pages read them but never append. The
 * executor service gives a receipt its ledger index before the block is written, so one
 * foreign block would stop it for good; attestations and misses are signed records that
 * readers count.
 */
export const SERVICE_LOGS: ReadonlySet<string> = new Set(SERVICE_LOG_NAMES)

/**
 * Refuses a page's append to a log a service of the node writes: one of {@link SERVICE_LOGS},
 * or a writable log the node holds without a name (the publisher's registry, opened by key).
 *
 * @throws ShadwError `INVALID_ARGUMENT`
 */
export function assertPageWritable (log: LogInfo): void {
  if (log.name === null || SERVICE_LOGS.has(log.name)) {
    throw ShadwError.INVALID_ARGUMENT(`log ${log.key} is written by the node's own services: pages may only append to logs they created`, { key: log.key, name: log.name })
  }
}

/** The part of a MessagePort the bridge uses for the leader tab's own calls. */
export interface BridgePort {
  postMessage (message: unknown): void
  onmessage: ((ev: MessageEvent) => void) | null
  start (): void
  close (): void
}

/**
 * Answers bridge requests from every context of the origin on the BroadcastChannel, every
 * method in one place, and pushes node events to all of them. Runs inside the node worker.
 *
 * The leader tab, which made the worker, also gets a MessagePort of its own ({@link attach}):
 * a BroadcastChannel message goes through the browser process and to every context of the
 * origin, a port's stays between the two threads (~1.3 ms against ~0.07 ms per call and
 * answer in Chromium here). Events go to the port too, so the leader sees them in order with
 * its answers.
 */
export class BridgeServer {
  readonly #channel: BroadcastChannel
  readonly #ports = new Set<BridgePort>()
  readonly #host: BrowserNode
  readonly #createLoader: () => FunctionLoader
  #loader: FunctionLoader | null = null
  #drives: { open: DriveOpener, close (): Promise<void> } | null = null
  readonly #endpoint: () => Promise<InvokeEndpoint>
  readonly #contribution: ContributionHost | undefined
  readonly #publisher: PublisherHost | undefined
  readonly #owned: DriveHost | undefined

  /**
   * `endpoint` gives the endpoint now serving, once any switch in progress is done (the
   * contributor's switch replaces it; default: `contribution`'s);
   * `contribution`, `publisher` and `drives` answer the contributor's, the publisher's and
   * the drive owner's methods (without them those methods are refused as unknown).
   */
  constructor (host: BrowserNode, opts: { channelName?: string, createLoader?: () => FunctionLoader, invoke?: InvokeEndpoint, endpoint?: () => Promise<InvokeEndpoint>, contribution?: ContributionHost, publisher?: PublisherHost, drives?: DriveHost } = {}) {
    this.#host = host
    // Created on the first function call: most tabs never load one, and the loader's OPFS
    // cache directory is opened only then.
    this.#createLoader = opts.createLoader ?? (() => new FunctionLoader({ host: host.node, cache: new StorageModuleStore(opfsStorage(MODULE_CACHE_ROOT)) }))
    const contribution = opts.contribution
    if (opts.endpoint !== undefined) {
      this.#endpoint = opts.endpoint
    } else if (contribution !== undefined) {
      this.#endpoint = async () => await contribution.endpoint()
    } else {
      const endpoint = opts.invoke ?? new InvokeEndpoint({ host: host.node, tier: host.node.tier, drives: host.node })
      endpoint.start()
      this.#endpoint = async () => endpoint
    }
    this.#contribution = contribution
    this.#publisher = opts.publisher
    this.#owned = opts.drives
    this.#channel = new BroadcastChannel(opts.channelName ?? BRIDGE_CHANNEL)
    this.#channel.onmessage = (ev: MessageEvent) => { this.#onMessage(ev.data, response => { this.#channel.postMessage(response) }) }
  }

  /** Sends an event to every context. */
  publish (name: BridgeEvent['name'], data: unknown): void {
    const event: BridgeEvent = { type: 'event', name, data }
    this.#channel.postMessage(event)
    for (const port of this.#ports) port.postMessage(event)
  }

  /** Answers the calls that arrive on `port` (the leader tab's own) on it, and sends it every event. */
  attach (port: BridgePort): void {
    this.#ports.add(port)
    port.onmessage = (ev: MessageEvent) => { this.#onMessage(ev.data, response => { port.postMessage(response) }) }
    port.start()
  }

  close (): void {
    this.#endpoint().then(e => { e.stop() }, () => {})
    this.#loader?.close().catch(() => {})
    this.#drives?.close().catch(() => {})
    this.#owned?.close().catch(() => {})
    this.#channel.close()
    for (const port of this.#ports) port.close()
    this.#ports.clear()
  }

  #onMessage (data: unknown, respond: (response: BridgeResponse) => void): void {
    let request: BridgeRequest
    try {
      const msg = parseBridgeMessage(data)
      if (msg.type !== 'request') return
      request = msg
    } catch (err) {
      debug('dropped malformed message', (err as Error).message)
      const id = typeof (data as { id?: unknown })?.id === 'string' ? (data as { id: string }).id : null
      if (id !== null) respond({ type: 'response', id, ok: false, error: serializeError(err) })
      return
    }
    this.#dispatch(request.method, request.params).then(
      result => { respond({ type: 'response', id: request.id, ok: true, result }) },
      err => { respond({ type: 'response', id: request.id, ok: false, error: serializeError(err) }) }
    )
  }

  async #dispatch (method: BridgeMethod, params: Record<string, unknown>): Promise<unknown> {
    const node = this.#host.node
    const contribution = this.#contribution
    const publisher = this.#publisher
    const owned = this.#owned
    switch (method) {
      case 'status':
        return this.#host.status()
      case 'createLog':
        return await node.createLog(expect.string(params['name'], 'name', 128))
      case 'follow':
        return await node.follow(expect.string(params['key'], 'key'))
      case 'append': {
        const key = expect.string(params['key'], 'key')
        const blocks = expect.blocks(params['blocks'])
        assertPageWritable(node.logInfo(key))
        return { length: await node.append(key, blocks) }
      }
      case 'get': {
        const timeout = expect.timeout(params['timeout'], DEFAULT_GET_TIMEOUT_MS, MAX_CALL_TIMEOUT_MS)
        const wait = params['wait'] === undefined ? true : params['wait'] === true
        return { block: await node.get(expect.string(params['key'], 'key'), expect.index(params['index'], 'index'), { wait, timeout }) }
      }
      case 'has':
        return { has: await node.has(expect.string(params['key'], 'key'), expect.index(params['index'], 'index')) }
      case 'waitForLength': {
        const timeout = expect.timeout(params['timeout'], DEFAULT_GET_TIMEOUT_MS, MAX_CALL_TIMEOUT_MS)
        return { length: await node.waitForLength(expect.string(params['key'], 'key'), expect.index(params['length'], 'length'), timeout) }
      }
      case 'download': {
        const timeout = expect.timeout(params['timeout'], DEFAULT_DOWNLOAD_TIMEOUT_MS, MAX_CALL_TIMEOUT_MS)
        const range: { start?: number, end?: number } = {}
        if (params['start'] !== undefined) range.start = expect.index(params['start'], 'start')
        if (params['end'] !== undefined) range.end = expect.index(params['end'], 'end')
        return await node.download(expect.string(params['key'], 'key'), range, { timeout })
      }
      case 'loadFunction': {
        this.#loader ??= this.#createLoader()
        const fn = await this.#loader.load(expect.string(params['ref'], 'ref', 512))
        const { manifest } = fn
        return { ref: `${manifest.publisher}/${manifest.name}@${manifest.version}`, manifest, signature: fn.signature, source: fn.source }
      }
      case 'invoke': {
        const input = params['input']
        if (!(input instanceof Uint8Array) || input.byteLength > MAX_INPUT_BYTES) throw ShadwError.INVALID_ARGUMENT(`input must be a Uint8Array of at most ${MAX_INPUT_BYTES} bytes`)
        const ref = expect.string(params['ref'], 'ref', 512)
        const opts = checkInvokeOptions(params)
        // a context may hold the node this long at most
        opts.deadline = expect.timeout(opts.deadline, DEFAULT_GET_TIMEOUT_MS, MAX_CALL_TIMEOUT_MS)
        mark('call.bridge-in')
        const result = await invokeWhenReady(await this.#endpoint(), ref, input, opts)
        mark('call.bridge-out')
        return result
      }
      case 'contribute': {
        if (contribution === undefined) break
        const workers = params['workers']
        // validated by the contribution host: both come from a page
        await contribution.set(workers === 0 ? undefined : { workers }, params['tier'])
        return contribution.status()
      }
      case 'contribution':
        if (contribution === undefined) break
        return contribution.status(typeof params['since'] === 'number' ? params['since'] : 0)
      case 'publish':
        if (publisher === undefined) break
        return await publisher.publish(params)
      case 'publisher':
        if (publisher === undefined) break
        return { key: await publisher.key() }
      case 'driveFetch': {
        const url = expect.string(params['url'], 'url', 8192)
        if (!url.startsWith(DRIVE_PREFIX)) throw ShadwError.INVALID_DRIVE_REF(url, `drive URLs start with ${DRIVE_PREFIX}`)
        const method = params['method'] === 'HEAD' ? 'HEAD' : 'GET'
        const range = params['range'] === undefined ? undefined : expect.string(params['range'], 'range', 128)
        const ifNoneMatch = params['ifNoneMatch'] === undefined ? undefined : expect.string(params['ifNoneMatch'], 'ifNoneMatch', 512)
        this.#drives ??= driveOpener(node)
        const opener = this.#drives
        // this browser's own drives are read with their keys (an encrypted one decrypted, in this origin only)
        const open: DriveOpener = async key => await owned?.owned(key) ?? await opener.open(key)
        return await driveReply(driveHandler(open), { url, method, ...(range === undefined ? {} : { range }), ...(ifNoneMatch === undefined ? {} : { ifNoneMatch }) }, DRIVE_WINDOW_BYTES)
      }
      case 'drives':
        if (owned === undefined) break
        return { drives: await owned.list() }
      case 'driveCreate':
        if (owned === undefined) break
        return await owned.create(params)
      case 'driveUploadStart':
        if (owned === undefined) break
        return await owned.uploadStart(params)
      case 'driveUploadChunk':
        if (owned === undefined) break
        return await owned.uploadChunk(params)
      case 'driveUploadEnd':
        if (owned === undefined) break
        return await owned.uploadEnd(params)
      case 'driveUploadAbort':
        if (owned === undefined) break
        return owned.uploadAbort(params)
      case 'drivePin':
        if (owned === undefined) break
        return await owned.pin(params)
      case 'drivePinErasure':
        if (owned === undefined) break
        return await owned.pinErasure(params)
      case 'driveStatus':
        if (owned === undefined) break
        return await owned.status(params)
    }
    throw ShadwError.BRIDGE_PROTOCOL(`unknown method ${describeValue(method)}`)
  }
}
