/** What tenants touch: the `/fn/*` HTTP gateway, the tenant SDK, and the invocation options both carry (isomorphic). See docs/protocol.md. */
export { handleFnRequest, refFromPath, corsHeaders, FN_PREFIX, FN_REQUEST_HEADERS, FN_RESPONSE_HEADERS, type GatewayInvoke } from './fn-gateway.ts'
export { invokeOptionHeaders, parseInvokeHeaders, checkInvokeOptions, INVOKE_OPTION_HEADERS, type WireInvokeOptions } from './invoke-options.ts'
export { endpointGateway, invokeWhenReady, type GatewayEndpoint } from './endpoint-gateway.ts'
export { connect, type ConnectOptions, type ClientInvokeOptions, type ClientResult, type ShadwClient } from './client.ts'
export { readDriveFile, listDrive, type DriveReadOptions, type DriveListing } from './drive-client.ts'
