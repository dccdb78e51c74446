import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import type { Testnet } from 'hyperdht/testnet'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { onTestFinished } from 'vitest'
import { ShadwNode } from '../../src/core/node/shadw-node.ts'
import { compileWat } from '../fixtures/wasm/fixtures.ts'

/** A started node whose Corestore the test also holds (to open a publisher registry in it). */
export async function nodeWithStore (net: Testnet): Promise<{ node: ShadwNode, store: Corestore }> {
  const dht = new HyperDHT({ bootstrap: net.bootstrap, host: '127.0.0.1' })
  const swarm = new Hyperswarm({ dht })
  const store = new Corestore(RAM.reusable())
  const node = new ShadwNode({ swarm, store, tier: 'super' })
  onTestFinished(async () => { await node.stop(); await dht.destroy() })
  await node.start()
  return { node, store }
}

/**
 * A raw-ABI echo module padded with a data segment, so it spans several 64 KiB blob
 * blocks; `tag` makes each module's bytes (and hash) distinct.
 */
export async function paddedEcho (padBytes: number, tag: number): Promise<Uint8Array> {
  const pad = Array.from({ length: padBytes }, (_, i) => '\\' + ((i * 7 + tag) & 0xff).toString(16).padStart(2, '0')).join('')
  const pages = Math.ceil((padBytes + 4096) / 65536) + 1
  return await compileWat(`(module
    (memory (export "memory") ${pages})
    (global $next (mut i32) (i32.const ${padBytes + 2048}))
    (data (i32.const 1024) "${pad}")
    (func (export "alloc") (param $len i32) (result i32)
      (local $p i32)
      (local.set $p (global.get $next))
      (global.set $next (i32.add (global.get $next) (local.get $len)))
      (local.get $p))
    (func (export "run") (param $ptr i32) (param $len i32) (result i64)
      (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32)) (i64.extend_i32_u (local.get $len)))))`)
}
