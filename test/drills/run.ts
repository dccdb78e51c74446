/**
 * `npm run drills`: runs every fault drill in its own process, one after another (they time
 * faults and would disturb each other), prints each drill's checks and a summary; exits 1 if
 * any drill failed.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The drills, in the order they run. */
const DRILLS = ['kill9-ledger.ts', 'network-cut.ts', 'browser.ts', 'executor-kill.ts', 'executor-kill-tab.ts', 'kill9-receipts.ts', 'hostile.ts', 'proofs.ts', 'wrong-bytes.ts', 'erasure-repair.ts']
/** Bound on one drill, its own bounds included. */
const DRILL_TIMEOUT_MS = 5 * 60_000

const only = process.argv.slice(2)
const results: Array<{ drill: string, ok: boolean }> = []
for (const drill of DRILLS.filter(d => only.length === 0 || only.some(o => d.startsWith(o)))) {
  const ok = await new Promise<boolean>(resolve => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(drill, import.meta.url))], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, NO_DEPRECATION: 'lit-js-sdk:constants:errors,lit-js-sdk:constants:constants' } })
    const timer = setTimeout(() => { console.log(`  FAIL ${drill} did not finish within ${DRILL_TIMEOUT_MS} ms`); child.kill('SIGKILL') }, DRILL_TIMEOUT_MS)
    child.on('exit', code => { clearTimeout(timer); resolve(code === 0) })
  })
  results.push({ drill, ok })
}
console.log(`\ndrills: ${results.filter(r => r.ok).length}/${results.length} passed (${results.map(r => `${r.drill.replace('.ts', '')} ${r.ok ? 'PASS' : 'FAIL'}`).join(', ')})`)
process.exit(results.every(r => r.ok) ? 0 : 1)
