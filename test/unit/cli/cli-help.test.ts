import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { main } from '../../../src/cli/cli.ts'
import { closeNames } from '../../../src/cli/close-names.ts'
import { COMMANDS, EXIT_CODES } from '../../../src/cli/commands.ts'
import { DEFAULT_PORT } from '../../../src/super-node/super-node.ts'

const BIN = fileURLToPath(new URL('../../../bin/shadw.js', import.meta.url))
const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version

let out = ''
let err = ''
beforeEach(() => {
  out = ''
  err = ''
  vi.spyOn(process.stdout, 'write').mockImplementation(s => { out += String(s); return true })
  vi.spyOn(process.stderr, 'write').mockImplementation(s => { err += String(s); return true })
})
afterEach(() => { vi.restoreAllMocks() })

// every entry of the command table, and every subcommand, so a new one cannot skip its help
const pages = COMMANDS.flatMap(c => [[c.name], ...(c.subcommands ?? []).map(s => [c.name, s.name])])

describe('shadw help', () => {
  it.each(pages)('shadw %s [%s] --help and shadw help … exit 0 with the usage and the exit codes', async (...words) => {
    const cmd = COMMANDS.find(c => c.name === words[0])
    const usage = words.length === 1 ? cmd?.usage : cmd?.subcommands?.find(s => s.name === words[1])?.usage
    for (const argv of [[...words, '--help'], [...words, '-h'], ['help', ...words]]) {
      out = ''
      expect(await main(argv)).toBe(0)
      expect(out.startsWith(`usage: ${usage as string}\n`)).toBe(true)
      expect(out.endsWith(`${EXIT_CODES}\n`)).toBe(true)
    }
    expect(err).toBe('')
  })

  it('lists every command in the overview, shows the version and names the default port the node uses', async () => {
    expect(await main([])).toBe(0)
    for (const c of COMMANDS) expect(out).toContain(`  ${c.name} `)
    out = ''
    expect(await main(['--version'])).toBe(0)
    expect(out).toBe(`shadw ${VERSION}\n`)
    expect(COMMANDS.find(c => c.name === 'start')?.usage).toContain(`--port ${DEFAULT_PORT}`)
  })

  it('help is a command too: shadw help --help, shadw help help and shadw help -h show its page', async () => {
    for (const argv of [['help', '--help'], ['help', 'help'], ['help', '-h']]) {
      out = ''
      expect(await main(argv)).toBe(0)
      expect(out.startsWith('usage: shadw help [<command> [<subcommand>]]\n')).toBe(true)
      expect(out.endsWith(`${EXIT_CODES}\n`)).toBe(true)
    }
    expect(err).toBe('')
  })

  it('a bare function name without publisher keys names both fixes: make keys, or name the publisher', async () => {
    const config = await mkdtemp(join(tmpdir(), 'shadw-cfg-'))
    vi.stubEnv('XDG_CONFIG_HOME', config)
    try {
      for (const command of ['invoke', 'inspect']) {
        err = ''
        expect(await main([command, 'nothere@1'])).toBe(1)
        expect(err).toBe(`shadw: KEYS_NOT_FOUND: "nothere@1" names one of your own functions (no publisher key before it), and you have no publisher keys at ${join(config, 'shadw', 'publisher-key.json')}: run \`shadw keys create\` to make them, or name the publisher: PUBLISHER/nothere@1 (\`shadw search nothere\` lists who has it)\n`)
      }
    } finally {
      vi.unstubAllEnvs()
      await rm(config, { recursive: true, force: true })
    }
  })

  it('answers a mistyped command with exit code 2 and the close names', async () => {
    expect(await main(['invok'])).toBe(2)
    expect(err).toBe('shadw: unknown command "invok"; did you mean invoke?\nshadw help lists the commands\n')
    err = ''
    expect(await main(['help', 'keys', 'delete'])).toBe(2)
    expect(err).toBe('shadw: keys has no subcommand "delete"; it has: show, create\n')
    expect(closeNames('lsit', ['list', 'inspect', 'start'])).toEqual(['list'])
  })

  it('leaves --help after -- to the module: shadw run passes it on as an argument', async () => {
    out = ''
    expect(await main(['run', '/nonexistent/module.wasm', '--', '--help'])).toBe(2)
    expect(out).toBe('')
    expect(err).toContain('ENOENT')
  })

  it('a usage error names the usage and where the options are', async () => {
    expect(await main(['keys', '--nope'])).toBe(2)
    expect(err).toBe('shadw: Unknown option \'--nope\'. To specify a positional argument starting with a \'-\', place it at the end of the command after \'--\', as in \'-- "--nope"\nusage: shadw keys [show|create] [--force] [--show-secret] [--json]\nshadw keys --help shows every option\n')
  })
})

describe('the shadw binary', () => {
  it('shadw keys --help exits 0', async () => {
    const r = await new Promise<{ code: number, stdout: string }>(resolve => {
      execFile(process.execPath, [BIN, 'keys', '--help'], { timeout: 30_000 }, (e, stdout) => { resolve({ code: e === null ? 0 : Number(e.code), stdout }) })
    })
    expect(r.code).toBe(0)
    expect(r.stdout.startsWith('usage: shadw keys [show|create]')).toBe(true)
  })
})
