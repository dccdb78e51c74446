/**
 * Names inside a drive and references to one: `<key>[@version][:path]` on the command line,
 * `/drive/<key>[@version]/<path>` over HTTP. Everything that arrives from a user, a page or a
 * peer passes through here first and leaves as a canonical absolute path or a typed error.
 */
import b4a from 'b4a'
import { ShadwError } from '../errors.ts'
import { isHexKey } from '../hex.ts'

/** Longest path inside a drive, in characters: deep trees fit, a megabyte of slashes does not. */
export const MAX_PATH_CHARS = 4096

/** Longest single name in a path (the usual file-system limit). */
const MAX_NAME_CHARS = 255

/** Highest version a reference may name: a version is a log length, a safe integer. */
const MAX_VERSION = Number.MAX_SAFE_INTEGER

/**
 * Canonical absolute form of a path inside a drive: `/a/b.txt`. Accepts `a/b.txt`, `/a//b`,
 * `./a/b`; refuses `..` (even when it would stay inside), control characters, backslashes
 * and empty names, so one file never has two spellings and nothing climbs out of a folder.
 * `dir: true` allows the root `/` (a folder to list).
 */
export function drivePath (input: string, opts: { dir?: boolean } = {}): string {
  if (typeof input !== 'string') throw ShadwError.DRIVE_PATH_INVALID(String(input), 'path must be a string')
  if (input.length > MAX_PATH_CHARS) throw ShadwError.DRIVE_PATH_INVALID(input, `path is longer than ${MAX_PATH_CHARS} characters`)
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(input)) throw ShadwError.DRIVE_PATH_INVALID(input, 'path has a control character or a backslash')
  const names: string[] = []
  for (const name of input.split('/')) {
    if (name === '' || name === '.') continue
    if (name === '..') throw ShadwError.DRIVE_PATH_INVALID(input, 'path climbs with ..')
    if (name.length > MAX_NAME_CHARS) throw ShadwError.DRIVE_PATH_INVALID(input, `a name is longer than ${MAX_NAME_CHARS} characters`)
    names.push(name)
  }
  if (names.length === 0) {
    if (opts.dir === true) return '/'
    throw ShadwError.DRIVE_PATH_INVALID(input, 'path names no file')
  }
  return '/' + names.join('/')
}

/** `a`/`b` joined as a drive path (for `--to DIR` and folder uploads). */
export function joinDrivePath (dir: string, name: string): string {
  const d = drivePath(dir, { dir: true })
  return drivePath(d === '/' ? '/' + name : d + '/' + name)
}

/** A parsed drive reference. */
export interface DriveRef {
  /** the drive's public key, hex */
  key: string
  /** the version asked for, or null for the latest */
  version: number | null
  /** canonical path inside the drive, or null when the reference names none */
  path: string | null
}

/** Parses a drive key (64 hex characters) to bytes, or throws `INVALID_DRIVE_REF`. */
export function parseDriveKey (input: string): Uint8Array {
  const hex = typeof input === 'string' ? input.trim().toLowerCase() : ''
  if (!isHexKey(hex)) throw ShadwError.INVALID_DRIVE_REF(String(input), 'a drive key is 64 hex characters')
  return b4a.from(hex, 'hex')
}

/** Parses a version number from a reference or a query (`1`, `42`). */
export function parseDriveVersion (input: string, ref = input): number {
  if (!/^\d{1,16}$/.test(input)) throw ShadwError.INVALID_DRIVE_REF(ref, 'a version is a whole number')
  const v = Number(input)
  if (!Number.isSafeInteger(v) || v > MAX_VERSION) throw ShadwError.INVALID_DRIVE_REF(ref, 'version is too large')
  return v
}

/**
 * Parses `<key>[@version][:path]` (the CLI form). `needPath` refuses a reference without a
 * path; the path is a folder (`/` allowed) when `dir` is set.
 */
export function parseDriveRef (input: string, opts: { needPath?: boolean, dir?: boolean } = {}): DriveRef {
  if (typeof input !== 'string' || input.length > MAX_PATH_CHARS + 100) throw ShadwError.INVALID_DRIVE_REF(String(input).slice(0, 200), 'reference is too long')
  const colon = input.indexOf(':')
  const head = colon === -1 ? input : input.slice(0, colon)
  const rest = colon === -1 ? null : input.slice(colon + 1)
  const at = head.indexOf('@')
  const keyHex = at === -1 ? head : head.slice(0, at)
  parseDriveKey(keyHex)
  const version = at === -1 ? null : parseDriveVersion(head.slice(at + 1), input)
  if (rest === null && opts.needPath === true) throw ShadwError.INVALID_DRIVE_REF(input, 'reference names no path (<key>:<path>)')
  const path = rest === null ? null : drivePath(rest, { dir: opts.dir })
  return { key: keyHex.trim().toLowerCase(), version, path }
}

/** Content types by extension, for serving files from a drive; the rest is octet-stream. */
const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  htm: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  json: 'application/json',
  txt: 'text/plain; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  xml: 'application/xml',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  ico: 'image/x-icon',
  mp4: 'video/mp4',
  webm: 'video/webm',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  wav: 'audio/wav',
  pdf: 'application/pdf',
  wasm: 'application/wasm',
  zip: 'application/zip',
  gz: 'application/gzip',
  tar: 'application/x-tar',
  woff2: 'font/woff2'
}

/** The content type a file is served with, from its extension. */
export function contentTypeOf (path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1)
  const dot = name.lastIndexOf('.')
  return (dot > 0 ? CONTENT_TYPES[name.slice(dot + 1).toLowerCase()] : undefined) ?? 'application/octet-stream'
}
