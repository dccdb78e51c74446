import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { keyToHex } from '../../../../src/core/keys.ts'
import { signingTopic } from '../../../../src/core/node/index.ts'
import { TIER_ROLES } from '../../../../src/core/node/tiers.ts'
import { DEFAULT_PRICING } from '../../../../src/core/pricing/index.ts'
import { startSuperNode } from '../../../helpers/super-node.ts'

const BIN = fileURLToPath(new URL('../../../../bin/shadw.js', import.meta.url))

describe('node tiers', () => {
  it('one node, four configurations: only super relays, light does not execute, storm and shadow price and execute', async () => {
    expect(TIER_ROLES).toEqual({
      super: { relays: true, stores: true, computes: true, signs: false },
      storm: { relays: false, stores: true, computes: true, signs: false },
      light: { relays: false, stores: false, computes: false, signs: true },
      shadow: { relays: false, stores: false, computes: true, signs: false }
    })
    const superNode = await startSuperNode({ workers: 1 })
    const light = await startSuperNode({ tier: 'light', workers: 1, bootstrap: superNode.info.bootstrap })
    const storm = await startSuperNode({ tier: 'storm', workers: 1, bootstrap: superNode.info.bootstrap })
    expect([superNode.node.tier, light.node.tier, storm.node.tier]).toEqual(['super', 'light', 'storm'])
    expect(superNode.executor?.service.pricing).toEqual(DEFAULT_PRICING)
    expect(storm.executor?.service.pricing).toEqual(DEFAULT_PRICING)
    expect(light.executor).toBeNull()
    expect(storm.executor?.service.slots).toBe(2)
    // the relay answers WebSocket upgrades on a super node only
    const upgrade = async (url: string): Promise<number> => await new Promise(resolve => {
      const ws = new WebSocket(url)
      ws.on('open', () => { ws.close(); resolve(101) })
      ws.on('error', () => { resolve(0) })
    })
    expect(await upgrade(superNode.info.relayUrl)).toBe(101)
    expect(await upgrade(light.info.relayUrl)).toBe(0)

    // the light node runs the signing service (its behaviour: test/integration/pricing/signing-swarm.test.ts)
    expect(superNode.signing).toBeNull()
    expect(storm.signing).toBeNull()
    expect(light.signing?.attestationsKey).toMatch(/^[0-9a-f]{64}$/)
    // on the signing topic because a service runs there: the executors and the signing service
    const signing = keyToHex(signingTopic())
    for (const n of [superNode, light, storm]) expect(n.node.status().topics).toContain(signing)
    // a super node started with --workers 0 executes nothing, so light nodes need not find it
    const idle = await startSuperNode({ workers: 0, bootstrap: superNode.info.bootstrap })
    expect(idle.node.status().topics).not.toContain(signing)
    // and a stopped executor service leaves it
    await storm.executor?.stop()
    expect(storm.node.status().topics).not.toContain(signing)
  }, 60_000)

  it('shadw start refuses an unknown --tier with INVALID_ARGUMENT', async () => {
    const res = await new Promise<{ code: number, stderr: string }>(resolve => {
      execFile(process.execPath, [BIN, 'start', '--tier', 'mega', '--port', '0'], { timeout: 30_000 }, (err, _stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stderr })
      })
    })
    expect(res.stderr).toBe('shadw: INVALID_ARGUMENT: tier must be one of super, storm, light, shadow, got "mega"\n')
    expect(res.code).toBe(1)
  })
})
