/**
 * The bonding curve of the lite paper ("Proof of Service Consensus"): a cubic Bézier over
 * utilisation, B(t) = Σ C(3,i)(1−t)^(3−i) t^i P_i for i = 0..3. The paper's formula omits the
 * binomial coefficients; without them B is not a Bézier curve (B(½) with all P_i = 1 would be
 * ½, not 1), so we use the standard Bernstein form. Only heights are controlled: the curve's
 * x runs evenly over [0, 1] (control x = 0, ⅓, ⅔, 1), which makes t the utilisation itself.
 */

/** Four control-point heights P0..P3. */
export type ControlPoints = readonly [number, number, number, number]

/** The binomial coefficients C(3, i). */
const BINOMIAL_3 = [1, 3, 3, 1] as const

/**
 * B(t) for t in [0, 1] (clamped: outside the range the curve is flat at its ends).
 *
 * Properties the tests check: B(0) = P0, B(1) = P3, min(P) ≤ B(t) ≤ max(P) (convex hull), and
 * B is non-decreasing when P0 ≤ P1 ≤ P2 ≤ P3 (its derivative is a positive combination of the
 * differences P_{i+1} − P_i).
 */
export function cubicBezier (points: ControlPoints, t: number): number {
  const u = clamp01(t)
  const [p0, p1, p2, p3] = points
  const v = 1 - u
  const sum = BINOMIAL_3[0] * v * v * v * p0 + BINOMIAL_3[1] * v * v * u * p1 + BINOMIAL_3[2] * v * u * u * p2 + BINOMIAL_3[3] * u * u * u * p3
  // rounding can put the sum a hair outside the hull; the hull is a promise we keep exactly
  return Math.min(Math.max(sum, Math.min(...points)), Math.max(...points))
}

/**
 * Utilisation t = demand / supply, clamped to [0, 1]. No supply at all is full utilisation
 * (the scarcest price), never a division by zero.
 */
export function utilisation (demand: number, supply: number): number {
  if (!(supply > 0)) return 1
  if (!(demand > 0)) return 0
  return clamp01(demand / supply)
}

function clamp01 (t: number): number {
  if (Number.isNaN(t)) return 1
  return t < 0 ? 0 : t > 1 ? 1 : t
}
