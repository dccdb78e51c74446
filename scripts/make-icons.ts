/**
 * Renders the PWA's PNG icons from public/icon.svg with headless Chromium (the same browser
 * the tests use; no image library needed). Chromium's install criteria want a 192 px and a
 * 512 px raster icon; the maskable one fills the whole square and keeps the mark inside the
 * central 80% safe zone, since launchers crop it to their own shape.
 *
 *   node --import tsx scripts/make-icons.ts
 */
import { readFile } from 'node:fs/promises'
import { chromium } from 'playwright-core'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/helpers/chromium-flags.ts'

const PUBLIC = new URL('../public/', import.meta.url)
/** Background of the maskable icon: the app's --bg, so the crop margin matches the mark's tile. */
const BG = '#0f1720'
/** Share of the maskable icon the mark may use (W3C maskable safe zone: a circle of 80%). */
const SAFE = 0.8

const svg = await readFile(new URL('icon.svg', PUBLIC), 'utf8')
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS })
try {
  const page = await browser.newPage()
  const render = async (size: number, file: string, maskable: boolean): Promise<void> => {
    await page.setViewportSize({ width: size, height: size })
    const inner = maskable ? Math.round(size * SAFE) : size
    await page.setContent(`<html><body style="margin:0;background:${maskable ? BG : 'transparent'};display:grid;place-items:center;width:${size}px;height:${size}px">
      <img src="data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}" width="${inner}" height="${inner}"></body></html>`)
    await page.screenshot({ path: new URL(file, PUBLIC).pathname, omitBackground: !maskable })
  }
  await render(192, 'icon-192.png', false)
  await render(512, 'icon-512.png', false)
  await render(512, 'icon-maskable-512.png', true)
} finally {
  await browser.close()
}
