// Minimal types for random-access-memory 6: the in-memory storage shadw tests its own against.
declare module 'random-access-memory' {
  import RandomAccessStorage from 'random-access-storage'

  export default class RandomAccessMemory extends RandomAccessStorage {
    constructor (opts?: number | { length?: number, pageSize?: number })
    /** A storage function whose files outlive close, so a core can be reopened in memory. */
    static reusable (): (name: string) => RandomAccessMemory
  }
}
