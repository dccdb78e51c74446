export { createNodeExecutor, type NodeExecutorOptions } from './node-executor.ts'
