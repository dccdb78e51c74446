/**
 * A narrow fake of our own SigningHost (src/attest/signing-service.ts) for unit tests: logs
 * are arrays, appends are announced as the node announces them, nothing goes over a network.
 * Executors' ledgers are written with `write`; the node's own log (what `createLog` opens) has
 * the key {@link OWN_LOG_KEY}.
 */
export const OWN_LOG_KEY = 'ee'.repeat(32)

export class MemorySigningHost {
  readonly logs = new Map<string, Uint8Array[]>()
  readonly #onappend = new Set<(log: { key: string, length: number }) => void>()

  on (event: string, listener: (log: { key: string, length: number }) => void): () => void {
    if (event !== 'append') return () => {}
    this.#onappend.add(listener)
    return () => { this.#onappend.delete(listener) }
  }

  connections (): [] { return [] }
  async createLog (): Promise<{ key: string, length: number }> { return this.#open(OWN_LOG_KEY) }
  async follow (key: string): Promise<{ key: string, length: number }> { return this.#open(key) }
  async get (key: string, index: number, _opts: { wait?: boolean } = {}): Promise<Uint8Array | null> { return this.logs.get(key)?.[index] ?? null }
  async append (key: string, blocks: Uint8Array[]): Promise<number> { return this.write(key, ...blocks) }
  logInfo (key: string): { key: string, length: number } { return { key, length: this.logs.get(key)?.length ?? 0 } }

  write (key: string, ...blocks: Uint8Array[]): number {
    const log = this.logs.get(key) ?? []
    this.logs.set(key, log)
    log.push(...blocks)
    for (const l of this.#onappend) l({ key, length: log.length })
    return log.length
  }

  #open (key: string): { key: string, length: number } {
    if (!this.logs.has(key)) this.logs.set(key, [])
    return this.logInfo(key)
  }
}
