/**
 * Access gating: Lit access control conditions, SIWE/SIWS tenant identity, the local fast path
 * and the Lit network gate. See docs/access.md.
 */
export { AccessGate, type AccessGateOptions, type AccessGrant, type AccessPath, type AccessRequest } from './access-gate.ts'
export { checkConditions, isPublic, CONDITION_KINDS, type AccessConditions, type AccessPolicy, type ConditionKind } from './conditions.ts'
export { checkFunctionId, functionKey, functionResource, CALL_RESOURCE_PREFIX, FUNCTION_RESOURCE_PREFIX, KEY_RESOURCE_PREFIX, type FunctionId } from './function-id.ts'
export { attachLit, connectLit, loadLit, type ConnectLitOptions, type LitClient, type LitNetworkState } from './lit-client.ts'
export { LitGate, encryptFunctionSecret, type LitCheck, type LitGateOptions, type LitSecret } from './lit-gate.ts'
export { evaluateLocally, isLocalPolicy, type LocalContext, type LocalVerdict } from './local-conditions.ts'
export { eip1193Signer, tenantSigner, type Eip1193Provider, type TenantSignerOptions } from './tenant-signer.ts'
export { ReplayGuard, MAX_SCOPES_PER_AUTH, type ReplayGuardOptions } from './replay-guard.ts'
export {
  authCall, createAuthMessage, newNonce, MAX_AUTH_KEYS, signAuth, signSolanaAuth, verifyAuth, verifyAuthWith, DERIVED_VIA, DERIVED_VIA_CONTRACT, type AuthMessageOptions, type MessageSigner,
  type ContractSignatureCheck,
  type VerifiedAuth, type VerifyAuthOptions
} from './siwe-auth.ts'
export { DERIVED_VIA_SOLANA, formatSolanaAuthMessage, parseSolanaAuthMessage, verifySolanaSignature, type SolanaAuthMessage, type SolanaMessageSigner } from './siws-auth.ts'
export { SolanaReader, SOLANA_GENESIS, isSolanaAddress, isSolanaChain, type SolanaReaderOptions } from './solana-rpc.ts'
export { ChainReader, chainIdOf, parseRpcOption, type CallRequest, type ChainReaderOptions, type RpcEndpoints } from './chain-rpc.ts'
export { ChainGate, type ChainDecision, type ChainGateOptions } from './chain-gate.ts'
export { chainsOf, evaluateOnChain, type ChainContext } from './chain-conditions.ts'
export { KeyHolder, MAX_KEY_HOLDERS, ephemeralKeyPair, openShare, rebuildKey, splitKey, verifyRelease, type EphemeralKeyPair, type KeyHolderOptions, type KeyRelease, type ReleaseRecord } from './key-shares.ts'
export { interpolateAt, newShareXs, reshareCombine, reshareDeal, shareX } from './key-reshare.ts'
export { keyCheck, recoverKey, signCommitment, verifyCommitment, KEY_COMMITMENT_DOMAIN, type KeyCommitment, type RecoveredKey } from './key-commitment.ts'
