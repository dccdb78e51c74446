/**
 * Drives (isomorphic): versioned file trees owned by a key pair, on Hyperdrive over the
 * node's Corestore, with optional block encryption. `Drive.open(node, key)` opens any drive
 * read-only on a node; `drive.logs(version)` names the logs (and their Merkle roots) a
 * holder keeps for that version. Paths and references (`<key>[@version][:path]`) are
 * parsed here too. See docs/storage.md.
 */
export { Drive, driveLogs, type DriveFile, type DriveHost, type DriveKeyPair, type DriveEntry, type DriveLog, type OpenDriveOptions } from './drive.ts'
export { checkBlockSize, toBlocks, DRIVE_BLOCK_BYTES, MIN_DRIVE_BLOCK_BYTES } from './blocks.ts'
export { drivePath, joinDrivePath, parseDriveKey, parseDriveRef, parseDriveVersion, contentTypeOf, type DriveRef } from './paths.ts'
export { driveHandler, driveReply, parseDriveUrl, parseRange, DRIVE_PREFIX, type DriveOpener, type DriveUrl, type DriveReply, type DriveFetchParams } from './http.ts'
export { driveOpener } from './opener.ts'
export { parsePinnedMounts, pinMounts, mergeMounts, loadMount, filePage, MountBudget, type LazyMount, type MountKeyGrant, type MountSpec, type PinnedMount, type MountedVersion } from './mount.ts'
export { READ_AHEAD_BLOCKS } from './blob-reader.ts'
export { verifiedVersion } from './drive-version.ts'
export { MountCache, MountFiles, CACHE_PAGE_BYTES, DEFAULT_MOUNT_CACHE_BYTES } from './mount-files.ts'
