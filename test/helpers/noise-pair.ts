import NoiseSecretStream from '@hyperswarm/secret-stream'
import { onTestFinished } from 'vitest'

/** Two ends of a real Noise secret stream, joined in memory, destroyed after the test. */
export function noisePair (): [NoiseSecretStream, NoiseSecretStream] {
  const a = new NoiseSecretStream(true)
  const b = new NoiseSecretStream(false)
  ;(a as unknown as { rawStream: { pipe (s: unknown): { pipe (s: unknown): void } } }).rawStream.pipe((b as unknown as { rawStream: unknown }).rawStream).pipe((a as unknown as { rawStream: unknown }).rawStream)
  onTestFinished(() => { a.destroy(); b.destroy() })
  return [a, b]
}

/** {@link noisePair} once both ends finished their handshake. */
export async function openNoisePair (): Promise<[NoiseSecretStream, NoiseSecretStream]> {
  const [a, b] = noisePair()
  await Promise.all([(a as unknown as { opened: Promise<boolean> }).opened, (b as unknown as { opened: Promise<boolean> }).opened])
  return [a, b]
}
