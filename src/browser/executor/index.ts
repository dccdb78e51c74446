export { createBrowserExecutor, type BrowserExecutorOptions } from './browser-executor.ts'
export { createExecutorWorkerApi, type ExecutorWorkerApi } from './worker-api.ts'
