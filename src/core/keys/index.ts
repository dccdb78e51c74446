/** Condition-gated keys over the wire: dealing shares to key holders, releasing them, holder choice (isomorphic). See docs/access.md. */
export { KeyService, chooseHolders, dealKey, fetchKey, keyHoldersTopic, keyIdOf, KEY_HOLDERS_TOPIC_NAME, type FetchedKey, type HolderRole, type KeyServiceOptions, type ShareStore } from './key-service.ts'
export { KEYS_PROTOCOL, decodeKeyMessage, encodeKeyMessage, type KeyMessage } from './key-messages.ts'
