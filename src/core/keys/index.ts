/** Condition-gated keys over the wire: dealing shares to key holders, releasing them, rotating them, holder choice (isomorphic). See docs/access.md. */
export { KeyService, chooseHolders, keyHoldersTopic, keyIdOf, sealTo, KEY_HOLDERS_TOPIC_NAME, type HolderRole, type KeyServiceOptions, type ShareStore } from './key-service.ts'
export { dealKey, fetchKey, rotateKey, type FetchedKey, type KeyLayout, type KeyTerms } from './key-dealer.ts'
export { KEYS_PROTOCOL, decodeKeyMessage, encodeKeyMessage, type KeyMessage } from './key-messages.ts'
export { callKeys, HOLDERS_WAIT_MS } from './call-keys.ts'
