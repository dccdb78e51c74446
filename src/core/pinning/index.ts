/**
 * Pinning (isomorphic): holders that keep drives' logs for others within a disk budget,
 * placement of a drive's replicas over distinct holders, signed hold confirmations, drive
 * health, and the re-pin of a replica whose holder left. Built on logs, not on a drive
 * format: a pin names Hypercore logs at a length and tree hash.
 */
export { Holder, DEFAULT_GRACE_MS, DEFAULT_STORAGE_PRICE, type HolderOptions, type HolderStatus } from './holder.ts'
export { pinDrive, discoverHolders, DEFAULT_DISCOVER_MS, DEFAULT_STANDING_GRACE_MS, DEFAULT_STANDING_TERM_MS, STANDING_PRICE_HEADROOM, type PinDriveOptions, type PinClientNode } from './pinner.ts'
export { driveStatus, healthOf, type DriveStatus, type DriveHolder, type DriveHealth, type DriveStatusOptions } from './drive-status.ts'
export { describeLogs, type HolderNode } from './held-logs.ts'
export { signHold, verifyHold, HOLD_DOMAIN, type HoldConfirmation, type HoldBody, type BudgetState } from './hold-confirmation.ts'
export { parsePinRequest, pinBytes, MAX_PIN_LOGS, MAX_REPLICAS, type PinRequest, type PinnedLog } from './pin-request.ts'
export { DiskBudget, parseSize } from './disk-budget.ts'
export { holdersTopic, PIN_PROTOCOL, type HolderOffer } from './pin-protocol.ts'
export { rankHolders, type PlacementEvent, type ReputationOf } from './placement.ts'
export { ReedSolomon } from './reed-solomon.ts'
export { encodeErasure, decodeErasure, rebuildStripe, parseScheme, checkScheme, expansion, stripeCount, shardLength, shardHash, DEFAULT_SCHEME, type ErasureScheme, type ErasureLayout, type StripeCommitment, type Encoded } from './erasure.ts'
export { signErasurePin, verifyErasurePin, ERASURE_PIN_DOMAIN, type ErasurePin, type ErasurePinBody } from './erasure-pin.ts'
export { makeChallenge, answerChallenge, checkAnswer, nextChallengeDelay, signVerdict, verifyVerdict, holderFailed, proofFailures, PROOF_DOMAIN, DEFAULT_PROOF_QUORUM, type Challenge, type ChallengeAnswer, type ProofVerdict } from './storage-proof.ts'
export { answerBlockChallenge, checkBlockAnswer, rootIndices, type BlockAnswer, type TreeNode, type ProvingCore } from './block-proof.ts'
export { ProofBook, type HolderFailure } from './proof-book.ts'
export { ProofChallenger, DEFAULT_PROOF_INTERVAL_MS, type ProofChallengerOptions } from './proof-challenger.ts'
export { ProofChannels, PROOF_PROTOCOL, type ProofPeer } from './proof-protocol.ts'
export { proofStatus, summarizeProofs, type HolderProof } from './proof-status.ts'
export { electRepairer, repairRanking, signRepair, verifyRepair, erasureHealth, REPAIR_DOMAIN, type RepairRecord, type ErasureHealth } from './erasure-repair.ts'
export { stripeLossRate, lossProbability, meanDaysToLoss, type DurabilityInputs } from './durability.ts'
export { ShardHolder, signShardHold, verifyShardHold, SHARD_HOLD_DOMAIN, type ShardHold, type ShardHolderOptions } from './shard-holder.ts'
export { ShardChannels, SHARD_PROTOCOL, SHARD_PROTOCOL_V1, type ShardPeer } from './shard-protocol.ts'
export { shardNonce, signAnswer, judgeAnswer, servedWrongOn, type Judged } from './shard-answer.ts'
export { readErasure, findErasurePin, challengeShard, excludedHolders, type ReadErasureOptions } from './erasure-client.ts'
export { pinErasure, bytesSource, pickShardBytes, commitSource, DEFAULT_WINDOW, type ErasurePlacement, type PinErasureOptions, type ByteSource, type PinProgress } from './erasure-pinner.ts'
export { driveVersionSource, type DriveVersionSource } from './erasure-source.ts'
export { PinWatch, pinTopic, type RepairEvent, type PinPlacement } from './erasure-watch.ts'
export { slotPaid, slotBytes, type SlotPaid } from './slot-terms.ts'
