/**
 * The super node's `/drive/*`: drives opened read-only on its node as requests name them
 * (a bounded set, `driveOpener`), served by the core's handler.
 */
import { driveHandler, driveOpener } from '../core/drive/index.ts'
import type { ShadwNode } from '../core/node/index.ts'

/** The Fetch handler for `/drive/*` on `node`, and a `close()` for when the node stops. */
export function driveServer (node: ShadwNode): { handler: (req: Request) => Promise<Response>, close (): Promise<void> } {
  const drives = driveOpener(node)
  return { handler: driveHandler(drives.open), close: drives.close }
}
