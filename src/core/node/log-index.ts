import Hyperbee from 'hyperbee'
import type Hypercore from 'hypercore'
import { ShadwError } from '../errors.ts'

/** The record a node keeps for each log it holds, so it re-opens them after a restart. */
export interface LogRecord {
  name: string | null
  writable: boolean
  addedAt: number
}

const PREFIX = 'log/'

/**
 * The local index of held logs, itself a Hyperbee on a local, never-announced Hypercore:
 * an append-only, crash-safe key/value store that works on every storage backend we run on
 * (files, OPFS) with no second storage engine.
 */
export class LogIndex {
  readonly #bee: Hyperbee<LogRecord>

  constructor (core: Hypercore) {
    this.#bee = new Hyperbee<LogRecord>(core, { keyEncoding: 'utf-8', valueEncoding: 'json' })
  }

  async ready (): Promise<void> {
    await this.#bee.ready()
  }

  async put (keyHex: string, record: LogRecord): Promise<void> {
    await this.#bee.put(PREFIX + keyHex, record)
  }

  async delete (keyHex: string): Promise<void> {
    await this.#bee.del(PREFIX + keyHex)
  }

  /** Every record, validated: a stored value is input like any other. */
  async list (): Promise<Array<{ key: string, record: LogRecord }>> {
    const out: Array<{ key: string, record: LogRecord }> = []
    for await (const entry of this.#bee.createReadStream({ gte: PREFIX, lt: PREFIX + '~' })) {
      const key = entry.key.slice(PREFIX.length)
      out.push({ key, record: validateRecord(key, entry.value) })
    }
    return out
  }

  async close (): Promise<void> {
    await this.#bee.close()
  }
}

function validateRecord (key: string, value: unknown): LogRecord {
  const v = value as Partial<LogRecord> | null
  if (v === null || typeof v !== 'object' || typeof v.writable !== 'boolean' || typeof v.addedAt !== 'number' ||
    !(v.name === null || typeof v.name === 'string')) {
    throw ShadwError.STORAGE_CORRUPT(`log index entry ${key}`)
  }
  return { name: v.name, writable: v.writable, addedAt: v.addedAt }
}
