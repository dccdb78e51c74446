import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
// @ts-expect-error plain JavaScript (it runs before anything is compiled), no declarations
import { buildApp } from '../../../scripts/build-app.mjs'
import { tempDir } from '../../helpers/super-node.ts'

type Build = (args: string[], stream: { isTTY?: boolean, write: (s: string | Uint8Array) => boolean }) => Promise<number>

/** A stderr of our own: what the build script wrote to it, and whether it is a terminal. */
function stream (isTTY: boolean): { isTTY: boolean, text: () => string, write: (s: string | Uint8Array) => boolean } {
  let text = ''
  return { isTTY, text: () => text, write: s => { text += typeof s === 'string' ? s : Buffer.from(s).toString(); return true } }
}

describe('the build step of npm start (scripts/build-app.mjs)', () => {
  it('builds the app and writes nothing to a pipe; on a terminal only a progress line it erases; on failure vite\'s report and its exit code', { timeout: 240_000 }, async () => {
    const build = buildApp as Build
    const piped = stream(false)
    const out = await tempDir()
    expect(await build(['--outDir', out], piped)).toBe(0)
    expect(piped.text()).toBe('')
    expect(existsSync(join(out, 'index.html'))).toBe(true)

    // a terminal: each redraw rewrites the one line; the last write erases it
    const tty = stream(true)
    expect(await build(['--outDir', await tempDir()], tty)).toBe(0)
    const redraws = tty.text().split('\r\x1b[2K').filter(s => s !== '')
    for (const line of redraws) expect(line).toMatch(/^building the web app… \d+s$/)
    if (tty.text() !== '') expect(tty.text().endsWith('\r\x1b[2K')).toBe(true)

    const failing = stream(false)
    expect(await build(['--outDir', await tempDir(), '--config', '/nonexistent/vite.config.ts'], failing)).toBe(1)
    expect(failing.text()).toContain('/nonexistent/vite.config.ts')
    expect(failing.text().endsWith('vite build failed (exit code 1)\n')).toBe(true)
  })
})
