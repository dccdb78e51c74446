/**
 * Access gating: Lit access control conditions, SIWE tenant identity, the local fast path
 * and the Lit network gate. See docs/access.md.
 */
export { AccessGate, type AccessGateOptions, type AccessGrant, type AccessPath, type AccessRequest } from './access-gate.ts'
export {
  checkConditions,
  isPublic,
  CONDITION_KINDS,
  MAX_CONDITIONS,
  MAX_CONDITIONS_BYTES,
  MAX_CONDITION_DEPTH,
  type AccessConditions,
  type AccessPolicy,
  type ConditionKind
} from './conditions.ts'
export { checkFunctionId, functionKey, functionResource, FUNCTION_RESOURCE_PREFIX, type FunctionId } from './function-id.ts'
export {
  attachLit,
  connectLit,
  loadLit,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_LIT_NETWORK,
  type ConnectLitOptions,
  type LitClient,
  type LitNetworkState
} from './lit-client.ts'
export {
  LitGate,
  encryptFunctionSecret,
  DEFAULT_PASS_CACHE_ENTRIES,
  DEFAULT_PASS_TTL_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  MAX_LIT_CIPHERTEXT_CHARS,
  type LitCheck,
  type LitGateOptions,
  type LitSecret
} from './lit-gate.ts'
export { evaluateLocally, isLocalPolicy, type LocalContext, type LocalVerdict } from './local-conditions.ts'
export { eip1193Signer, tenantSigner, type Eip1193Provider, type TenantSignerOptions } from './tenant-signer.ts'
export { ReplayGuard, DEFAULT_MAX_NONCES, type ReplayGuardOptions } from './replay-guard.ts'
export {
  createAuthMessage,
  newNonce,
  signAuth,
  verifyAuth,
  DEFAULT_AUTH_TTL_MS,
  DEFAULT_CLOCK_SKEW_MS,
  DERIVED_VIA,
  MAX_AUTH_LIFETIME_MS,
  MAX_AUTH_MESSAGE_BYTES,
  type AuthMessageOptions,
  type MessageSigner,
  type VerifiedAuth,
  type VerifyAuthOptions
} from './siwe-auth.ts'
