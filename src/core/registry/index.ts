/** Public surface of signed functions and publisher registries (isomorphic). */
export {
  type FunctionManifest, type SignedManifest, type PriceParams, type BlobLocation, MANIFEST_VERSION,
  MANIFEST_VERSION_1, MANIFEST_VERSION_2, MANIFEST_DOMAIN, MAX_MANIFEST_BYTES, NAME_PATTERN, isValidAuthDomain, validateAuthDomains, encodeManifest,
  decodeManifest, signManifest, encodeSignedManifest, decodeSignedManifest, validateManifest, isValidVersion
} from './manifest.ts'
export { type FunctionExample, type ManifestDocs, validateDocs } from './manifest-docs.ts'
export { type Tombstone, type SignedTombstone, TOMBSTONE_DOMAIN, signTombstone, openTombstone, encodeTombstone } from './tombstone.ts'
export { canonicalJson, parseCanonicalJson } from './canonical-json.ts'
export {
  type FunctionRef, type FunctionAliases, parseFunctionRef, parseRefOrAlias, formatFunctionRef, resolveRange, satisfiesRange
} from './function-ref.ts'
export { type PublisherKeyPair, createPublisherKeyPair, blobKeyPair, checkKeyPair } from './publisher-keys.ts'
export {
  type NodeCeilings, type VerifyContext, type VerifiedFunction, DEFAULT_CEILINGS, verifyManifest, verifyFunction,
  checkFit
} from './verify.ts'
export { Registry, DEFAULT_PRICE, type PublishOptions, type VersionInfo } from './registry.ts'
export { FunctionLoader, DEFAULT_LOAD_TIMEOUT_MS, type RegistryHost, type ModuleStore, type FunctionLoaderOptions, type LoadedFunction } from './function-loader.ts'
export { RegistryFollows } from './registry-follows.ts'
export { followPublishers, type FollowHost } from './follow-publishers.ts'
export { StorageModuleStore, type StorageFactory } from './module-store.ts'
export { validateMounts, MAX_MANIFEST_MOUNTS, type ManifestMount } from './manifest-mounts.ts'
export { validateSecrets, MAX_MANIFEST_SECRETS, SECRET_NAME, type ManifestSecret } from './manifest-secrets.ts'
export { verifyRecord } from './signed-record.ts'
