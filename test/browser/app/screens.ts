import { mkdir } from 'node:fs/promises'
import type { Page } from 'playwright-core'

/** Where the app tests leave screenshots for a person to look at (gitignored). */
export const SCREENSHOT_DIR = new URL('../../../test-results/screenshots/', import.meta.url)

/** Phone and desktop widths. */
export const WIDTHS = [390, 1280] as const

/** Shows `view` and saves a full-page screenshot at each width as `<name>-<width>.png`. */
export async function screenshots (page: Page, view: string, name: string): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true })
  await page.evaluate((v) => { location.hash = v }, view)
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: width < 600 ? 844 : 900 })
    // one status refresh at the new width
    await page.waitForTimeout(1_200)
    await page.screenshot({ path: new URL(`${name}-${width}.png`, SCREENSHOT_DIR).pathname, fullPage: true })
    // nothing may push the page wider than the screen (a long key, a code block)
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth)
    if (scrollWidth > width) throw new Error(`${name} at ${width} px scrolls sideways: content is ${scrollWidth} px wide`)
  }
}
