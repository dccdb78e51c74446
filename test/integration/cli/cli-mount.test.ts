import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Testnet } from 'hyperdht/testnet'
import { describe, expect, it } from 'vitest'
import { saveDriveKeys } from '../../../src/cli/drive-keys.ts'
import { Drive } from '../../../src/core/drive/index.ts'
import type { SignedReceipt } from '../../../src/core/ledger/index.ts'
import { parseBootstrap } from '../../../src/super-node/super-node.ts'
import { cWasm } from '../../fixtures/wasm/fixtures.ts'
import { publisher } from '../../helpers/invoke.ts'
import { startSuperNode, tempDir } from '../../helpers/super-node.ts'
import { testNode } from '../../helpers/testnet.ts'
import { kernel } from '../../helpers/fs-kernel.ts'

const BIN = fileURLToPath(new URL('../../../bin/shadw.js', import.meta.url))

function shadw (env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise(resolve => {
    execFile(process.execPath, [BIN, ...args], { timeout: 90_000, env }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
    })
  })
}

describe('--mount on the command line', () => {
  it('shadw invoke and shadw run mount a private drive from the swarm with the key store\'s key; latest is pinned and named in the receipt; bad specs are refused', async () => {
    const superNode = await startSuperNode({ workers: 1 })
    const bootstrap = superNode.info.bootstrap.join(',')
    const net = { bootstrap: parseBootstrap(superNode.info.bootstrap) } as unknown as Testnet
    const home = await tempDir('shadw-user-')
    const env = { ...process.env, XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data') }

    // the user's private drive, online on another node; its keys in the user's key store
    const owner = await testNode(net)
    const created = await Drive.create(owner, { encrypt: true })
    const drive = created.drive
    const data = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7 + 3) % 256)
    await drive.put('/sets/a/blob', [data])
    // the super node has the drive's blocks before the calls (a mount's fetch of a drive's first
    // blocks from a peer met moments ago is the mount-fetch tests' subject, not this one's)
    const warm = await Drive.open(superNode.node, drive.key, { encryptionKey: created.encryptionKey })
    await warm.download()
    await warm.close()
    await saveDriveKeys({ key: drive.key, keyPair: created.keyPair, encryptionKey: created.encryptionKey }, join(home, 'config', 'shadw', 'drives'))

    const pub = await publisher(net)
    const ref = await pub.publish(cWasm('fs-read-kernel'), { name: 'read-kernel', version: '1.0.0' })
    const invoked = await shadw(env, 'invoke', ref, '--mount', `${drive.key}@latest:/sets/a::/data`, '--bootstrap', bootstrap, '--deadline', '60000', '--json')
    expect(invoked.stderr).toBe('')
    const doc = JSON.parse(invoked.stdout) as { output: string, receipts: SignedReceipt[] }
    expect(doc.output).toBe(kernel(data))
    expect(doc.receipts[0]?.mounts).toEqual([{ drive: drive.key, version: drive.version }])

    const dir = await tempDir()
    const module = join(dir, 'kernel.wasm')
    await writeFile(module, cWasm('fs-read-kernel'))
    const ran = await shadw(env, 'run', module, '--mount', `${drive.key}:/sets/a::/data`, '--bootstrap', bootstrap, '--', '/data/blob')
    expect(ran.stderr).toBe('')
    expect(ran.stdout).toBe(kernel(data))
    expect(ran.code).toBe(0)

    // malformed specs are typed refusals before any network; another user lacks the key
    const badRun = await shadw(env, 'run', module, '--mount', `${drive.key}:/sets/a`)
    expect(badRun.stderr).toMatch(/^shadw run: MOUNT_INVALID: mount: --mount [0-9a-f]{64}:\/sets\/a: no ::GUEST/)
    expect(badRun.code).toBe(2)
    const badInvoke = await shadw(env, 'invoke', ref, '--mount', `${drive.key}@0::/data`, '--bootstrap', bootstrap)
    expect(badInvoke.stderr).toMatch(/MOUNT_INVALID|versions start at 1/)
    expect(badInvoke.code).not.toBe(0)
    const stranger = await tempDir('shadw-user-')
    const locked = await shadw({ ...env, XDG_CONFIG_HOME: join(stranger, 'config') }, 'invoke', ref, '--mount', `${drive.key}@${drive.version}:/sets/a::/data`, '--bootstrap', bootstrap, '--deadline', '60000')
    expect(locked.stderr).toMatch(/DRIVE_LOCKED|encrypted/)
    expect(locked.code).not.toBe(0)
    await drive.close()
  }, 240_000)
})
