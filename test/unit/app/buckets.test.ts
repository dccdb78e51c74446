import { describe, expect, it } from 'vitest'
import { bucketise } from '../../../src/app/charts/buckets.ts'

describe('chart buckets', () => {
  it('sums items into fixed buckets ending now, oldest first, dropping what is outside the window', () => {
    const now = 100_000
    const items = [
      { at: now - 35_000, v: 9 }, // before the 30 s window
      { at: now - 25_000, v: 1 },
      { at: now - 15_000, v: 2 },
      { at: now - 14_000, v: 3 },
      { at: now, v: 4 },
      { at: now + 1, v: 5 } // in the future: a clock step between the node and the page
    ]
    expect(bucketise(items, now, 3, 10_000, i => i.v)).toEqual([1, 5, 4])
  })
})
