/** What tenants touch: the `/fn/*` HTTP gateway and the tenant SDK (isomorphic). See docs/protocol.md. */
export { handleFnRequest, refFromPath, corsHeaders, FN_PREFIX, FN_REQUEST_HEADERS, FN_RESPONSE_HEADERS, type GatewayInvoke } from './fn-gateway.ts'
export { connect, type ConnectOptions, type ClientInvokeOptions, type ClientResult, type ShadwClient } from './client.ts'
