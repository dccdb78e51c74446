/**
 * The durability model of erasure-coded pins (docs/storage.md derives it). Each of a
 * stripe's K+M shards sits on its own holder; a holder is lost at rate λ per day
 * (independently); a lost shard stays down for a mean time T = proof interval + grace +
 * rebuild before a repairer has placed it again. A shard is then down with stationary
 * probability q = λT / (1 + λT), and a stripe is lost when a further holder goes while M are
 * down: rate r = C(n, M) q^M (1−q)^(n−M) (n−M) λ per day. All stripes of one pin share
 * their holders, so a drive is lost when any stripe is: P(year) = 1 − e^(−365 r).
 */

/** Inputs of the model. */
export interface DurabilityInputs {
  k: number
  m: number
  /** holder loss rate per day (a holder gone for good, past the grace period) */
  lossPerDay: number
  /** mean days a lost shard stays down (proof interval + grace + rebuild) */
  downDays: number
}

function choose (n: number, r: number): number {
  let c = 1
  for (let i = 1; i <= r; i++) c = c * (n - r + i) / i
  return c
}

/** Stripe losses per day per stripe (the rate r above). */
export function stripeLossRate (x: DurabilityInputs): number {
  const n = x.k + x.m
  const q = x.lossPerDay * x.downDays / (1 + x.lossPerDay * x.downDays)
  return choose(n, x.m) * q ** x.m * (1 - q) ** (n - x.m) * (n - x.m) * x.lossPerDay
}

/** Probability of losing a pin (its stripes on one set of K+M holders) within `days`. */
export function lossProbability (x: DurabilityInputs, days = 365): number {
  return -Math.expm1(-stripeLossRate(x) * days)
}

/**
 * The mean days from a whole stripe to its loss, exactly, for the same chain (j shards down:
 * up at rate (n−j)λ, down again at rate j/T): the expected time to first pass from j to j+1
 * is 1/b_j + (d_j/b_j)·τ_(j−1). Its inverse is the closed form's rate when losses are rare;
 * it is smaller when they are not (a stripe starts whole, not in the stationary mix).
 */
export function meanDaysToLoss (x: DurabilityInputs): number {
  const n = x.k + x.m
  let prev = 0
  let total = 0
  for (let j = 0; j <= x.m; j++) {
    const up = (n - j) * x.lossPerDay
    const tau = 1 / up + (j / x.downDays / up) * prev
    total += tau
    prev = tau
  }
  return total
}
