/** Public surface of the isomorphic sandbox core. */
export type { Abi, ExecuteCall, ExecuteOptions, ExecuteResult, Executor, ExecutionLimits } from './executor.ts'
export {
  DEFAULT_LIMITS, DEFAULT_FUEL, DEFAULT_MEMORY_PAGES, DEFAULT_DEADLINE_MS, DEFAULT_MAX_INPUT_BYTES,
  DEFAULT_MAX_OUTPUT_BYTES, MAX_FUEL, MAX_MODULE_BYTES, resolveLimits
} from './limits.ts'
export { STACK_BUDGET_SLOTS } from './function-metering.ts'
export { instrumentModule, FUEL_EXPORT, OOM_EXPORT, STACK_EXPORT, START_EXPORT, MAX_WASM_PAGES, MAX_TABLE_ELEMENTS, type InstrumentedModule } from './instrument.ts'
export { parseModule, type ParsedModule } from './wasm-module.ts'
export { checkAbi } from './abi-check.ts'
export { ModuleCache, prepareModule, MODULE_CACHE_ENTRIES, type PreparedModule } from './module-cache.ts'
export { runModule, type RunParams, type RunOutcome } from './run-module.ts'
export { SandboxRuntime } from './sandbox-runtime.ts'
export { InlineRunner, DEFAULT_INLINE_FUEL, DEFAULT_INLINE_MODULE_BYTES, INLINE_MEMORY_PAGES, type InlineOptions } from './inline-runner.ts'
export { WorkerPool, DEFAULT_QUEUE_PER_WORKER, MAX_POOL_SIZE, PIPELINE_DEPTH, type PoolWorker, type WorkerPoolOptions } from './worker-pool.ts'
export { parseWorkerRequest, parseWorkerReply, type WorkerRequest, type WorkerReply } from './protocol.ts'
export { createWasiContext, WASI_MODULE, STDERR_LIMIT_BYTES, type WasiContext, type WasiCallOptions } from './wasi-abi.ts'
export { sha256Hex } from './host.ts'
