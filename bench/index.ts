/**
 * `npm run bench`: runs every benchmark module in order. Each prints ratios against a
 * baseline measured in the same run and writes bench/results/<name>.json; then
 * bench/results/summary.json gathers the headline figures of this run (see summary.ts).
 * `npm run bench -- replication` runs only the named benches (the summary still follows).
 */
import { writeSummary } from './summary.ts'

const BENCHES: Array<{ name: string, run: () => Promise<void> }> = [
  { name: 'sandbox', run: async () => { await (await import('./sandbox.ts')).runSandboxBench() } },
  { name: 'replication', run: async () => { await (await import('./replication.ts')).runReplicationBench() } },
  { name: 'webrtc', run: async () => { await (await import('./webrtc.ts')).runWebrtcBench() } },
  { name: 'invocation', run: async () => { await (await import('./invocation.ts')).runInvocationBench() } },
  { name: 'invocation-stages', run: async () => { await (await import('./invocation-stages.ts')).runInvocationStagesBench() } },
  { name: 'access', run: async () => { await (await import('./access.ts')).runAccessBench() } },
  { name: 'wasi-fs', run: async () => { await (await import('./wasi-fs.ts')).runWasiFsBench() } },
  { name: 'mounts', run: async () => { await (await import('./mounts.ts')).runMountsBench() } },
  { name: 'mount-routing', run: async () => { await (await import('./mount-routing.ts')).runMountRoutingBench() } },
  { name: 'storage', run: async () => { await (await import('./storage.ts')).runStorageBench() } },
  { name: 'erasure', run: async () => { await (await import('./erasure.ts')).runErasureBench() } },
  { name: 'shard-answer', run: async () => { await (await import('./shard-answer.ts')).runShardAnswerBench() } }
]

const started = Date.now()
const only = process.argv.slice(2)
for (const b of BENCHES) {
  if (only.length > 0 && !only.includes(b.name)) continue
  console.log(`\n=== bench: ${b.name} ===`)
  try {
    await b.run()
  } catch (err) {
    // one failed bench must not lose the others' figures: its summary keys stay null
    console.error(`bench ${b.name} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
    process.exitCode = 1
  }
}
await writeSummary(started)
