/** `promise`, or a rejection naming `what` once `ms` passed without it settling. */
export function within<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`${what} did not happen within ${ms} ms`)) }, ms)
  })
  return Promise.race([promise, timeout]).finally(() => { clearTimeout(timer) })
}
