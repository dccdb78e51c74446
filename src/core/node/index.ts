/**
 * The node (isomorphic): `ShadwNode` (lifecycle, held logs, topics, connections), the node's
 * swarm identity and its tiers. Hosts build the swarm and store for their runtime and hand
 * them in. Protocols that ride on every connection use `src/core/connection-channels.ts`,
 * which needs only the node's types: importing it does not load the node.
 */
export { ShadwNode, type ShadwNodeOptions, type ShadwNodeEvents } from './shadw-node.ts'
export { NETWORK_TOPIC_NAME, networkTopic, superTopic, signingTopic, type SigningRole } from './topics.ts'
export { DEFAULT_GET_TIMEOUT_MS, DEFAULT_DOWNLOAD_TIMEOUT_MS, type DownloadResult } from './log-store.ts'
export { type ConnectionClassifier } from './connections.ts'
export { nodeIdentity } from './identity.ts'
export { TIER_ROLES, NODE_TIERS, SWITCHABLE_TIERS, parseTier, type TierRoles } from './tiers.ts'
export type { NodeTier, LogInfo, PeerStatus, NodeStatus } from './types.ts'
