/**
 * A tenant's page of its own origin that calls a super node through the SDK client (the
 * package's "./client" export), built for the browser as a tenant's bundler would.
 */
import { connect } from '../../../../src/core/gateway/client.ts'

declare global {
  interface Window {
    /** Invokes `ref` on the gateway at `url` with UTF-8 `input`; the SDK checks the receipts. */
    sdkInvoke: (url: string, ref: string, input: string) => Promise<{ output: string, receipts: unknown[] } | { error: string }>
  }
}

window.sdkInvoke = async (url, ref, input) => {
  try {
    const r = await connect({ url }).invoke(ref, new TextEncoder().encode(input))
    return { output: new TextDecoder().decode(r.output), receipts: r.receipts }
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) }
  }
}
document.title = 'ready'
