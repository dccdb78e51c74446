import { describe, expect, it } from 'vitest'
import { contentTypeOf, drivePath, joinDrivePath, parseDriveRef, parseDriveUrl, parseRange } from '../../../../src/core/drive/index.ts'

const KEY = 'ab'.repeat(32)

describe('drive paths and references', () => {
  it('canonicalises paths and refuses every other spelling with DRIVE_PATH_INVALID', () => {
    expect(drivePath('a/b.txt')).toBe('/a/b.txt')
    expect(drivePath('/a//b/./c')).toBe('/a/b/c')
    expect(drivePath('/', { dir: true })).toBe('/')
    expect(joinDrivePath('/pub', 'x.txt')).toBe('/pub/x.txt')
    expect(joinDrivePath('/', 'x.txt')).toBe('/x.txt')
    for (const bad of ['', '/', '..', 'a/../b', 'a\\b', 'a\u0000b', 'a\nb', 'x'.repeat(256), '/a'.repeat(2100)]) {
      expect(() => drivePath(bad), JSON.stringify(bad.slice(0, 20))).toThrow(expect.objectContaining({ code: 'DRIVE_PATH_INVALID' }))
    }
  })

  it('parses <key>[@version][:path] and refuses malformed references with INVALID_DRIVE_REF', () => {
    expect(parseDriveRef(KEY)).toEqual({ key: KEY, version: null, path: null })
    expect(parseDriveRef(`${KEY.toUpperCase()}@7:/a/b`)).toEqual({ key: KEY, version: 7, path: '/a/b' })
    expect(parseDriveRef(`${KEY}:`, { dir: true })).toEqual({ key: KEY, version: null, path: '/' })
    for (const bad of ['abc', `${KEY}@`, `${KEY}@-1:/a`, `${KEY}@1.5`, `${KEY}@99999999999999999`, 'x'.repeat(10_000)]) {
      expect(() => parseDriveRef(bad), bad.slice(0, 80)).toThrow(expect.objectContaining({ code: 'INVALID_DRIVE_REF' }))
    }
    expect(() => parseDriveRef(KEY, { needPath: true })).toThrow(expect.objectContaining({ code: 'INVALID_DRIVE_REF' }))
    expect(() => parseDriveRef(`${KEY}:/../x`)).toThrow(expect.objectContaining({ code: 'DRIVE_PATH_INVALID' }))
  })

  it('parses drive URLs: version in the path or the query, never both; percent-encoded names', () => {
    const u = (s: string): URL => new URL(s, 'http://n')
    expect(parseDriveUrl(u(`/drive/${KEY}/a%20b/c.txt`))).toEqual({ key: KEY, version: null, path: '/a b/c.txt', list: false, index: true, bare: false })
    expect(parseDriveUrl(u(`/drive/${KEY}@3/x`))).toMatchObject({ version: 3 })
    expect(parseDriveUrl(u(`/drive/${KEY}/x?version=4`))).toMatchObject({ version: 4 })
    expect(parseDriveUrl(u(`/drive/${KEY}/dir/`))).toMatchObject({ path: '/dir', list: true, index: true, bare: false })
    expect(parseDriveUrl(u(`/drive/${KEY}/dir/?list`))).toMatchObject({ path: '/dir', list: true, index: false })
    expect(parseDriveUrl(u(`/drive/${KEY}`))).toMatchObject({ path: '/', list: true, index: true, bare: true })
    expect(parseDriveUrl(u(`/drive/${KEY}@2/`))).toMatchObject({ path: '/', list: true, index: true, bare: false })
    expect(() => parseDriveUrl(u(`/drive/${KEY}@3/x?version=4`))).toThrow(expect.objectContaining({ code: 'INVALID_DRIVE_REF' }))
    expect(() => parseDriveUrl(u(`/drive/${KEY}/%E0%A4%A`))).toThrow(expect.objectContaining({ code: 'DRIVE_PATH_INVALID' }))
    expect(() => parseDriveUrl(u(`/drive/${KEY}/a%2F..%2Fb`))).toThrow(expect.objectContaining({ code: 'DRIVE_PATH_INVALID' }))
  })

  it('parses single byte ranges; several ranges serve the whole file; the rest is DRIVE_RANGE_INVALID', () => {
    expect(parseRange(null, 100)).toBeNull()
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 })
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 })
    expect(parseRange('bytes=90-500', 100)).toEqual({ start: 90, end: 99 })
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 })
    expect(parseRange('bytes=-500', 100)).toEqual({ start: 0, end: 99 })
    expect(parseRange('bytes=0-1,5-6', 100)).toBeNull()
    for (const bad of ['bytes=100-', 'bytes=5-4', 'bytes=-0', 'bytes=-', 'items=0-1', 'bytes=a-b']) {
      expect(() => parseRange(bad, 100), bad).toThrow(expect.objectContaining({ code: 'DRIVE_RANGE_INVALID' }))
    }
    expect(() => parseRange('bytes=0-', 0)).toThrow(expect.objectContaining({ code: 'DRIVE_RANGE_INVALID' }))
  })

  it('gives content types by extension', () => {
    expect(contentTypeOf('/a/index.HTML')).toBe('text/html; charset=utf-8')
    expect(contentTypeOf('/v.mp4')).toBe('video/mp4')
    expect(contentTypeOf('/.bashrc')).toBe('application/octet-stream')
    expect(contentTypeOf('/noext')).toBe('application/octet-stream')
  })
})
