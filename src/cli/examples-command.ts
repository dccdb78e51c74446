/**
 * `shadw examples [--key] [--storage DIR] [--json]`: the examples the node on this storage
 * published on its first start, with their references. Reads only the example publisher's key
 * file, so it works while the node runs.
 */
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ShadwError } from '../core/errors.ts'
import { defaultDir } from '../super-node/data-dir.ts'
import { loadKeys } from '../super-node/keystore.ts'
import { EXAMPLE_KEY_FILE, readExamples } from './examples-publish.ts'

/** Runs `shadw examples`; resolves to the exit code. */
export async function examplesCommand (argv: string[], out: (s: string) => void = s => { process.stdout.write(s) }): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      key: { type: 'boolean', default: false },
      storage: { type: 'string', default: join(defaultDir('data'), 'super-node') },
      json: { type: 'boolean', default: false }
    },
    allowPositionals: true,
    strict: true
  })
  if (positionals.length > 0) throw ShadwError.INVALID_ARGUMENT('shadw examples takes no arguments')
  const keys = await loadKeys(join(values.storage, EXAMPLE_KEY_FILE)).catch((err: ShadwError) => {
    if (err.code !== 'KEYS_NOT_FOUND') throw err
    throw new ShadwError('KEYS_NOT_FOUND', `no examples were published on ${values.storage}: they are published by the first \`shadw start\` on empty storage (without --no-examples)`, { details: { path: err.details?.['path'] } })
  })
  if (values.key) {
    out(`${keys.publicKey}\n`)
    return 0
  }
  const examples = await readExamples()
  const refs = examples.map(e => ({ name: e.name, ref: `${keys.publicKey}/${e.name}@${e.version}`, abi: e.abi, title: e.title }))
  if (values.json) {
    out(JSON.stringify({ publisher: keys.publicKey, examples: refs }) + '\n')
    return 0
  }
  out(`example publisher ${keys.publicKey}\n`)
  for (const r of refs) out(`  ${r.ref}\n      ${r.title} (${r.abi}; examples/${r.name}/README.md)\n`)
  return 0
}
