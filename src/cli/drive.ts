/**
 * `shadw drive <subcommand>`: the drive commands as one table. Each row is a subcommand with
 * its usage line, a one-line summary and a lazily loaded runner; a new subcommand is one
 * more row. `shadw drive`, `shadw drive help` and `shadw drive <sub> --help` print from here.
 */
import { ShadwError } from '../core/errors.ts'

/** One `shadw drive` subcommand. */
export interface DriveSubcommand {
  usage: string
  summary: string
  run (argv: string[]): Promise<number>
}

const NET = '[--bootstrap host:port[,…] | --node URL] [--storage DIR]'

/** The subcommands, in the order help lists them. */
export const DRIVE_COMMANDS: Record<string, DriveSubcommand> = {
  create: {
    usage: 'shadw drive create [--encrypt] [--json]',
    summary: 'make a drive; prints its key (secret and encryption keys stay in your key store)',
    run: async argv => await (await import('./drive-commands.ts')).createCommand(argv)
  },
  put: {
    usage: `shadw drive put <DRIVE> <PATH>... [--to DIR] [--block-size 4KiB..64KiB] [--seed] ${NET} [--json]`,
    summary: 'upload files and folders into a drive you own (one new version per file)',
    run: async argv => await (await import('./drive-transfer.ts')).putCommand(argv)
  },
  ls: {
    usage: `shadw drive ls <DRIVE>[@VERSION][:DIR] [--version N] [--encryption-key HEX | --grant FILE --auth FILE] ${NET} [--json]`,
    summary: 'list a folder of a drive, at its latest or any earlier version',
    run: async argv => await (await import('./drive-commands.ts')).lsCommand(argv)
  },
  get: {
    usage: `shadw drive get <DRIVE>[@VERSION]:<PATH> [-o OUT|-] [--encryption-key HEX | --grant FILE --auth FILE] ${NET} [--json]`,
    summary: 'fetch a file from the swarm, every block verified against the drive\'s signed tree',
    run: async argv => await (await import('./drive-transfer.ts')).getCommand(argv)
  },
  'share-key': {
    usage: `shadw drive share-key <DRIVE> --gate CONDITIONS.json [--holders N] [--threshold T] [--domain HOST] [--out FILE] [--wait MS] ${NET}`,
    summary: 'split an encrypted drive\'s key t-of-n among key holders, released to readers the conditions pass; writes the key grant',
    run: async argv => await (await import('./drive-grant.ts')).shareKeyCommand(argv)
  },
  'rotate-key': {
    usage: `shadw drive rotate-key <DRIVE> --grant FILE --gate CONDITIONS.json [--holders N] [--threshold T] [--out FILE] [--wait MS] ${NET}`,
    summary: 'move a shared drive key\'s shares to holders chosen afresh (and new conditions), holder to holder; old shares void',
    run: async argv => await (await import('./drive-grant.ts')).rotateKeyCommand(argv)
  },
  pin: {
    usage: 'shadw drive pin <DRIVE> [--replicas N | --erasure K+M] [--storage DIR] [--timeout MS] [--grace MS] [--bootstrap host:port[,…] | --node URL] [--json]',
    summary: 'have N holders keep the drive, or K+M holders one erasure-coded shard each (returns once they confirmed, signed)',
    run: async argv => await (await import('./drive-pin.ts')).drivePinCommand(['pin', ...argv])
  },
  status: {
    usage: 'shadw drive status <DRIVE> [--grace MS] [--bootstrap host:port[,…] | --node URL] [--json]',
    summary: "the drive's holders, their last confirmations and its health (replicas and erasure shards)",
    run: async argv => await (await import('./drive-pin.ts')).drivePinCommand(['status', ...argv])
  }
}

/** The group's help text. */
export function driveUsage (): string {
  const rows = Object.entries(DRIVE_COMMANDS)
  const width = Math.max(...rows.map(([name]) => name.length))
  return [
    'usage: shadw drive <subcommand> [options]',
    '',
    'subcommands:',
    ...rows.map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    ...rows.map(([, c]) => c.usage),
    ''
  ].join('\n')
}

/** Runs `shadw drive …`; resolves to the exit code. */
export async function driveCommand (argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    process.stdout.write(driveUsage())
    return 0
  }
  const command = Object.hasOwn(DRIVE_COMMANDS, sub) ? DRIVE_COMMANDS[sub] : undefined
  if (command === undefined) throw ShadwError.INVALID_ARGUMENT(`unknown drive subcommand ${JSON.stringify(sub)}\n\n${driveUsage()}`)
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.usage}\n\n${command.summary}\n`)
    return 0
  }
  return await command.run(rest)
}
