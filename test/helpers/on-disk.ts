import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { onTestFinished } from 'vitest'

/** A fresh directory for a node's storage, removed after the test. */
export function tmpStorage (): string {
  const dir = mkdtempSync(join(tmpdir(), 'shadw-proofs-'))
  onTestFinished(() => { rmSync(dir, { recursive: true, force: true }) })
  return dir
}

/** Overwrites every byte of a log's block data on disk (Corestore's layout: cores/dk[0..2]/dk[2..4]/dk/data); returns the bytes flipped. */
export function corruptOnDisk (storage: string, logKey: string): number {
  const dk = b4a.toString(crypto.discoveryKey(b4a.from(logKey, 'hex')), 'hex')
  const file = join(storage, 'cores', dk.slice(0, 2), dk.slice(2, 4), dk, 'data')
  const size = statSync(file).size
  const fd = openSync(file, 'r+')
  try {
    const bytes = b4a.alloc(size)
    readSync(fd, bytes, 0, size, 0)
    for (let i = 0; i < size; i++) bytes[i] = bytes[i]! ^ 0x5a
    writeSync(fd, bytes, 0, size, 0)
  } finally {
    closeSync(fd)
  }
  return size
}
