#!/usr/bin/env node
// The shadw command. Sources are TypeScript; tsx compiles them on load so the CLI, the
// tests and the super node all run the same files with no separate build step.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../src/node/cli.ts')
process.exitCode = await main(process.argv.slice(2))
