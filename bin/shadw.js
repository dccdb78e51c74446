#!/usr/bin/env node
// The shadw command. Sources are TypeScript; tsx compiles them on load so the CLI, the
// tests and the super node all run the same files with no separate build step.
import { register } from 'tsx/esm/api'

// Lit 7 announces its own deprecated constants through depd on every load; users of the CLI
// cannot act on them
process.env.NO_DEPRECATION = [process.env.NO_DEPRECATION, 'lit-js-sdk:constants:errors', 'lit-js-sdk:constants:constants'].filter(Boolean).join(',')

register()
const { main } = await import('../src/cli/cli.ts')
process.exitCode = await main(process.argv.slice(2))
