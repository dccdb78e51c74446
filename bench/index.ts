/**
 * `npm run bench`: runs every benchmark module in order. Each prints ratios against a
 * baseline measured in the same run and writes bench/results/<name>.json.
 */
export {}

const BENCHES: Array<{ name: string, run: () => Promise<void> }> = [
  { name: 'sandbox', run: async () => { await (await import('./sandbox.ts')).runSandboxBench() } },
  { name: 'replication', run: async () => { await (await import('./replication.ts')).runReplicationBench() } },
  { name: 'webrtc', run: async () => { await (await import('./webrtc.ts')).runWebrtcBench() } },
  { name: 'invocation', run: async () => { await (await import('./invocation.ts')).runInvocationBench() } },
  { name: 'access', run: async () => { await (await import('./access.ts')).runAccessBench() } },
  { name: 'wasi-fs', run: async () => { await (await import('./wasi-fs.ts')).runWasiFsBench() } },
  { name: 'erasure', run: async () => { await (await import('./erasure.ts')).runErasureBench() } }
]

const only = process.argv.slice(2)
for (const b of BENCHES) {
  if (only.length > 0 && !only.includes(b.name)) continue
  console.log(`\n=== bench: ${b.name} ===`)
  await b.run()
}
