export { createBrowserExecutor, type BrowserExecutorOptions } from './browser-executor.ts'
export { installErrorTransfer } from './comlink-errors.ts'
export { createExecutorWorkerApi, type ExecutorWorkerApi } from './worker-api.ts'
export { EXECUTOR_READY } from './ready.ts'
