/** What a node is for (lite paper tiers); the same node code in every case. */
export type NodeTier = 'super' | 'storm' | 'light' | 'shadow'

/** A log (Hypercore) that this node holds, as reported in status. */
export interface LogInfo {
  /** hex public key of the Hypercore */
  key: string
  /** hex discovery key: the swarm topic peers meet on */
  discoveryKey: string
  /** local name for logs this node writes; null for followed logs */
  name: string | null
  writable: boolean
  /** length as far as this node knows (it may not hold every block: replication is sparse) */
  length: number
  /** blocks held locally without a gap from block 0 */
  contiguousLength: number
  byteLength: number
  /** peers currently replicating this log */
  peers: number
}

/** One live swarm connection. */
export interface PeerStatus {
  publicKey: string
  /** how the bytes travel: native UDX, through a WebSocket relay, or a direct WebRTC link */
  transport: 'udx' | 'relay' | 'webrtc'
  initiator: boolean
}

/** A node's status, as served at `/api/status` and shown in the app. */
export interface NodeStatus {
  publicKey: string
  tier: NodeTier
  peers: PeerStatus[]
  logs: LogInfo[]
  topics: string[]
}
