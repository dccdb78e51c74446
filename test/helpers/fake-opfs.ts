import type { OpfsDirectoryHandle, OpfsFileHandle, OpfsSyncAccessHandle } from '../../src/browser/opfs-storage.ts'

/**
 * An in-memory Origin Private File System with Chromium's rules that matter to the adapter:
 * one sync access handle per file at a time (`NoModificationAllowedError`), `NotFoundError`
 * for missing entries, `InvalidModificationError` when removing a non-empty directory, and a
 * byte quota that fails writes and growth up front with `QuotaExceededError`.
 */
export class FakeOpfs {
  readonly root = new FakeDir()
  /** Total bytes all files may hold; Infinity by default. */
  quota = Infinity
  /** When set, the next write stores only this many bytes and the one after throws quota. */
  shortWriteOnce: number | null = null
  flushes = 0
  openHandles = 0

  getDirectory = async (): Promise<OpfsDirectoryHandle> => this.root.handle(this)

  used (): number {
    return this.root.bytes()
  }
}

class FakeFile {
  data = new Uint8Array(0)
  locked = false
}

class FakeDir {
  readonly entries = new Map<string, FakeDir | FakeFile>()

  bytes (): number {
    let n = 0
    for (const e of this.entries.values()) n += e instanceof FakeDir ? e.bytes() : e.data.byteLength
    return n
  }

  handle (fs: FakeOpfs): OpfsDirectoryHandle {
    return {
      getDirectoryHandle: async (name, opts) => {
        let e = this.entries.get(name)
        if (e === undefined && opts?.create === true) this.entries.set(name, e = new FakeDir())
        if (e === undefined) throw new DOMException('not found', 'NotFoundError')
        if (!(e instanceof FakeDir)) throw new DOMException('is a file', 'TypeMismatchError')
        return e.handle(fs)
      },
      getFileHandle: async (name, opts) => {
        let e = this.entries.get(name)
        if (e === undefined && opts?.create === true) this.entries.set(name, e = new FakeFile())
        if (e === undefined) throw new DOMException('not found', 'NotFoundError')
        if (!(e instanceof FakeFile)) throw new DOMException('is a directory', 'TypeMismatchError')
        return fileHandle(fs, e)
      },
      removeEntry: async (name) => {
        const e = this.entries.get(name)
        if (e === undefined) throw new DOMException('not found', 'NotFoundError')
        if (e instanceof FakeDir && e.entries.size > 0) throw new DOMException('not empty', 'InvalidModificationError')
        if (e instanceof FakeFile && e.locked) throw new DOMException('in use', 'NoModificationAllowedError')
        this.entries.delete(name)
      }
    }
  }
}

function fileHandle (fs: FakeOpfs, file: FakeFile): OpfsFileHandle {
  return {
    createSyncAccessHandle: async () => {
      if (file.locked) throw new DOMException('Access Handles cannot be created if there is another open Access Handle', 'NoModificationAllowedError')
      file.locked = true
      fs.openHandles++
      return syncHandle(fs, file)
    }
  }
}

function syncHandle (fs: FakeOpfs, file: FakeFile): OpfsSyncAccessHandle {
  let closed = false
  const live = (): void => { if (closed) throw new DOMException('closed', 'InvalidStateError') }
  const resize = (size: number): void => {
    if (size > file.data.byteLength && fs.used() - file.data.byteLength + size > fs.quota) throw new DOMException('No capacity available', 'QuotaExceededError')
    const next = new Uint8Array(size)
    next.set(file.data.subarray(0, Math.min(size, file.data.byteLength)))
    file.data = next
  }
  return {
    read (buffer, { at }) {
      live()
      const n = Math.max(0, Math.min(buffer.byteLength, file.data.byteLength - at))
      buffer.set(file.data.subarray(at, at + n))
      return n
    },
    write (buffer, { at }) {
      live()
      let bytes = buffer
      if (fs.shortWriteOnce !== null) {
        bytes = buffer.subarray(0, fs.shortWriteOnce)
        fs.shortWriteOnce = null
        fs.quota = fs.used() + bytes.byteLength
      }
      if (at + bytes.byteLength > file.data.byteLength) resize(at + bytes.byteLength)
      file.data.set(bytes, at)
      return bytes.byteLength
    },
    getSize () { live(); return file.data.byteLength },
    truncate (size) { live(); resize(size) },
    flush () { live(); fs.flushes++ },
    close () {
      if (closed) return
      closed = true
      file.locked = false
      fs.openHandles--
    }
  }
}
