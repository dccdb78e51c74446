/** What an executor worker posts once loaded, before any comlink traffic. */
export const EXECUTOR_READY = 'shadw-executor-ready'
