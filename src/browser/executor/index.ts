export { createBrowserExecutor, type BrowserExecutorOptions } from './browser-executor.ts'
export { installErrorTransfer } from './comlink-errors.ts'
