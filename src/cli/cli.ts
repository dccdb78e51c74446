import { readFileSync } from 'node:fs'
import { ShadwError } from '../core/errors.ts'
import { COMMANDS, EXIT_CODES, findCommand, type CliCommand } from './commands.ts'
import { closeNames } from './close-names.ts'

/** The overview: every command of the table with its summary. */
function overview (): string {
  const width = Math.max(...COMMANDS.map(c => c.name.length)) + 2
  return [
    'usage: shadw <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map(c => `  ${c.name.padEnd(width)}${c.summary}`),
    `  ${'help'.padEnd(width)}show this text, or a command's: shadw help <command> [<subcommand>]`,
    '',
    'shadw <command> --help shows a command\'s options and examples; shadw --version its version.',
    '',
    EXIT_CODES,
    ''
  ].join('\n')
}

/** A command's help page, or one subcommand's when `sub` names one. */
export function commandHelp (cmd: CliCommand, sub?: string): string {
  const s = sub === undefined ? undefined : cmd.subcommands?.find(x => x.name === sub)
  if (s !== undefined) {
    return [`usage: ${s.usage}`, '', s.summary, ...(s.help === undefined ? [] : ['', s.help]), '', EXIT_CODES, ''].join('\n')
  }
  const subs = cmd.subcommands === undefined || cmd.subcommands.length === 0
    ? []
    : ['', 'subcommands:', ...cmd.subcommands.map(x => `  ${x.name.padEnd(Math.max(...(cmd.subcommands ?? []).map(y => y.name.length)) + 2)}${x.summary}`)]
  return [`usage: ${cmd.usage}`, '', cmd.summary, ...subs, '', cmd.help, '', EXIT_CODES, ''].join('\n')
}

/** This checkout's version, from package.json. */
function version (): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

/** True when `argv` asks for help: `--help` or `-h` before any `--` (after it, arguments belong to a module). */
function asksHelp (argv: string[]): boolean {
  const end = argv.indexOf('--')
  return (end === -1 ? argv : argv.slice(0, end)).some(a => a === '--help' || a === '-h')
}

/** The help page of `help` itself: it is a command of the overview like any other. */
function helpHelp (): string {
  return [
    'usage: shadw help [<command> [<subcommand>]]',
    '',
    'show the commands, or one command\'s or subcommand\'s options and examples',
    '',
    'The same page as `shadw <command> [<subcommand>] --help`. Without a command: every command',
    'with a line about it.',
    '',
    'example:',
    '  shadw help drive pin',
    '',
    EXIT_CODES,
    ''
  ].join('\n')
}

/** `shadw help [<command> [<subcommand>]]`. */
function help (args: string[]): number {
  const [name, sub] = args
  if (name === undefined) {
    process.stdout.write(overview())
    return 0
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(helpHelp())
    return 0
  }
  const cmd = findCommand(name)
  if (cmd === undefined) return unknownCommand(name)
  if (sub !== undefined && cmd.subcommands?.some(s => s.name === sub) !== true) {
    process.stderr.write(`shadw: ${name} has no subcommand ${JSON.stringify(sub)}${cmd.subcommands === undefined ? '' : `; it has: ${cmd.subcommands.map(s => s.name).join(', ')}`}\n`)
    return 2
  }
  process.stdout.write(commandHelp(cmd, sub))
  return 0
}

function unknownCommand (name: string): number {
  const close = closeNames(name, [...COMMANDS.map(c => c.name), 'help'])
  process.stderr.write(`shadw: unknown command ${JSON.stringify(name)}${close.length > 0 ? `; did you mean ${close.join(' or ')}?` : ''}\nshadw help lists the commands\n`)
  return 2
}

/** Runs one CLI command; resolves to the process exit code. */
export async function main (argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h') return help([])
  if (name === 'help') return help(rest)
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`shadw ${version()}\n`)
    return 0
  }
  const cmd = findCommand(name)
  if (cmd === undefined) return unknownCommand(name)
  if (asksHelp(rest)) {
    const sub = rest.find(a => !a.startsWith('-'))
    process.stdout.write(commandHelp(cmd, cmd.subcommands?.some(s => s.name === sub) === true ? sub : undefined))
    return 0
  }
  try {
    return await cmd.run(rest)
  } catch (err) {
    return fail(err, cmd)
  }
}

/** Prints a typed error the way operators read it: code first, then the evidence, then what to do. */
function fail (err: unknown, cmd: CliCommand): number {
  if (err instanceof ShadwError) {
    const hint = HINTS[err.code]
    process.stderr.write(`shadw: ${err.message}\n${evidence(err)}${hint === undefined ? '' : `hint: ${hint}\n`}`)
    return 1
  }
  if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) {
    process.stderr.write(`shadw: ${(err as Error).message}\nusage: ${cmd.usage}\nshadw ${cmd.name} --help shows every option\n`)
    return 2
  }
  process.stderr.write(`shadw: INTERNAL: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  return 1
}

/** What to do about an error whose message cannot know it (the command line around it). */
const HINTS: Partial<Record<string, string>> = {
  STORAGE_LOCKED: 'a running `shadw start` holds this storage: stop it (Ctrl-C), run this command, start it again; or pass --storage DIR',
  BOOTSTRAP_UNREACHABLE: 'is a super node running? `npm start` (or `shadw start`) starts one; --node URL names another',
  NO_EXECUTORS: 'fewer executors are on the swarm than the call asks for: lower --redundancy, or start more nodes (shadw start --bootstrap HOST:PORT joins this one)'
}

interface FailureEvidence { executor: string | null, code: string, message: string }
interface GroupEvidence { outputHash?: string, fuel?: number, receipts?: Array<{ executor: string }> }

/** What each executor answered when a redundant call failed: a quorum failure is read from this. */
function evidence (err: ShadwError): string {
  const failures = (Array.isArray(err.details?.['failures']) ? err.details['failures'] : []) as FailureEvidence[]
  const extra = err.code !== 'NO_EXECUTORS' && failures.some(f => f.code === 'NO_EXECUTORS') ? `hint: ${HINTS['NO_EXECUTORS'] as string}\n` : ''
  return evidenceLines(err) + extra
}

function evidenceLines (err: ShadwError): string {
  const d = err.details
  if (d === undefined) return ''
  // one executor's error is the message itself; several are worth a line each
  const count = (Array.isArray(d['failures']) ? d['failures'].length : 0) + (Array.isArray(d['groups']) ? d['groups'].length : 0)
  if (err.code !== 'QUORUM_FAILED' && count < 2) return ''
  const lines: string[] = []
  for (const g of (Array.isArray(d['groups']) ? d['groups'] : []) as GroupEvidence[]) {
    for (const r of g.receipts ?? []) lines.push(`  ${r.executor.slice(0, 16)}…  answered output ${String(g.outputHash).slice(0, 16)}… fuel ${String(g.fuel)}`)
  }
  for (const f of (Array.isArray(d['failures']) ? d['failures'] : []) as FailureEvidence[]) {
    const message = f.message.startsWith(`${f.code}: `) ? f.message.slice(f.code.length + 2) : f.message
    lines.push(`  ${f.executor === null ? '(no executor)   ' : `${f.executor.slice(0, 16)}…`}  ${f.code}: ${message}`)
  }
  return lines.length === 0 ? '' : lines.join('\n') + '\n'
}
