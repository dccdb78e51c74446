/**
 * The command table: every `shadw` command with its help next to its definition. `shadw
 * <command> --help`, `shadw help <command> [<subcommand>]`, the overview and the test that
 * every command answers `--help` all read this table, so a new command is one entry here
 * (its module is loaded only when it runs, so help never loads the swarm).
 */
import { DRIVE_COMMANDS, driveCommand } from './drive.ts'

/** Exit codes every command shares; printed at the end of each help page. */
export const EXIT_CODES = `exit codes:
  0  success
  1  the command failed: stderr starts with "shadw: CODE: …" (src/core/errors.ts lists the codes)
  2  usage error: unknown command or option, missing argument`

/** A subcommand (`shadw keys create`): its own usage and help page. */
export interface CliSubcommand {
  name: string
  summary: string
  usage: string
  /** longer text: what it does, options, examples */
  help?: string
}

/** One `shadw` command. */
export interface CliCommand {
  name: string
  /** one line for the overview */
  summary: string
  /** usage lines, starting with `shadw <name>` */
  usage: string
  /** options, what it prints, examples */
  help: string
  subcommands?: CliSubcommand[]
  /** loads the command's module and runs it; resolves to the exit code */
  run (argv: string[]): Promise<number>
}

/** Storage option shared by the registry commands. */
const STORAGE_OPTION = '  --storage DIR   the super node\'s storage (default: the one `shadw start` uses)'

/** Every command, in the order the overview lists them. Add a command by adding an entry. */
export const COMMANDS: CliCommand[] = [
  {
    name: 'start',
    summary: 'run a super node: DHT (embedded on loopback by default), relay, web app, executor',
    usage: `shadw start [--port 4173] [--host 127.0.0.1] [--bootstrap host:port[,…]] [--public]
            [--storage DIR] [--app DIR] [--workers N] [--webrtc] [--tier super|storm|light|shadow]
            [--no-examples] [--disk-budget SIZE] [--memory-budget SIZE] [--repin-grace MS] [--proof-interval MS] [--rpc CHAIN=URL[,URL…]]… [--key-holder] [--verbose]`,
    help: `Runs a node until Ctrl-C. Without --bootstrap or --public it embeds a DHT on loopback, so
one machine is a whole swarm. On first start with empty storage it publishes the examples of
examples/ under a local example publisher (its key stays in the storage); --no-examples skips that.

options:
  --port N          HTTP port of the app, /fn gateway and relay (0: any free port)
  --host ADDR       address to listen on
  --bootstrap LIST  join the DHT of these host:port nodes instead of embedding one
  --public          join the public HyperDHT
  --storage DIR     where registries, ledgers and keys are kept
  --app DIR         the built web app to serve (default: dist/ of this checkout)
  --workers N       executor worker threads (0: do not execute)
  --webrtc          take direct WebRTC links from browsers
  --tier T          super (default), storm, light or shadow (docs/pricing.md)
  --no-examples     do not publish the examples on first start
  --disk-budget SIZE  disk this node offers to hold pinned drives (e.g. 10GiB; default 1GiB, 0: off)
  --memory-budget SIZE  bytes hostile clients may make the node buffer in all (request bodies,
                    relay frames and backlogs, queued calls; default 256MiB); past it, typed 503s
  --rpc CHAIN=URLS  JSON-RPC endpoints (comma-separated; they must agree) that access conditions
                    on CHAIN (a Lit chain name, e.g. ethereum, sepolia, solana, solanaDevnet)
                    are read from; repeatable
  --repin-grace MS  how long a co-holder may stay silent before its replica is pinned elsewhere
                    or its erasure shard slot rebuilt on another holder
  --proof-interval MS  mean time between two storage challenges of one co-holder (default 600000)
  --key-holder      hold shares of condition-gated keys for dealers, released after this node's
                    own auth and condition checks (docs/access.md)
  --verbose         log everything (namespaced; see src/core/log.ts)

example:
  npm start                      # builds the app, then: shadw start`,
    run: async argv => await (await import('./start.ts')).startCommand(argv)
  },
  {
    name: 'run',
    summary: 'run a WebAssembly module locally in the sandbox the swarm uses',
    usage: `shadw run <module.wasm> [--abi raw|wasi] [--input FILE|-] [--fuel N] [--memory PAGES]
          [--deadline MS] [--seed N] [--dir HOST[::GUEST]]... [--mount DRIVE[@VERSION|@latest][:FROM]::GUEST]...
          [--env KEY=VALUE]... [--bootstrap host:port[,…] | --node URL] [--json] [-- ARGS...]`,
    help: `Runs the module once, in the same metered sandbox as an executor, and prints its output to
stdout (fuel used on stderr). Nothing is published or sent.

options:
  --abi raw|wasi    the module's ABI (default: guessed from its imports)
  --input FILE|-    input bytes (- reads stdin)
  --fuel N, --memory PAGES, --deadline MS   limits
  --seed N          seed of the module's random source
  --dir HOST[::GUEST]  WASI: mount host directory HOST at GUEST (default: HOST as given);
                    copy-on-write: writes vanish with the call, HOST is never modified. Repeatable.
  --mount DRIVE[@VERSION|@latest][:FROM]::GUEST
                    WASI: mount folder FROM (default /) of a drive from the swarm at GUEST,
                    read-only (writes vanish with the call); latest is the default. A private
                    drive's key comes from your drive key store. Repeatable. Joins the swarm
                    of --node URL (default http://127.0.0.1:4173/) or --bootstrap host:port.
  --env KEY=VALUE   WASI: an environment variable. Repeatable.
  --json            one JSON document with output, fuel and exit code
  -- ARGS...        arguments for a WASI module

A WASI module's own nonzero exit code is passed on as the command's exit code.

example:
  shadw run examples/word-count/word-count.wasm --input README.md`,
    run: async argv => await (await import('./run.ts')).runCommand(argv)
  },
  {
    name: 'keys',
    summary: 'create or show the publisher key pair',
    usage: 'shadw keys [show|create] [--force] [--show-secret] [--json]',
    help: `Your publisher key signs what you publish; functions are named <public key>/<name>@<version>.

options:
  --force         with create: replace an existing key pair (its functions stay signed by the old one)
  --show-secret   also print the secret key
  --json          print JSON`,
    subcommands: [
      { name: 'show', summary: 'print the public key and where the key file is (the default)', usage: 'shadw keys show [--show-secret] [--json]' },
      { name: 'create', summary: 'create a key pair (refuses to overwrite one without --force)', usage: 'shadw keys create [--force] [--json]' }
    ],
    run: async argv => await (await import('./keys.ts')).keysCommand(argv)
  },
  {
    name: 'publish',
    summary: 'sign a module and publish it to the local super node\'s registry',
    usage: `shadw publish <module.wasm> --name NAME --version X.Y.Z [--abi raw|wasi] [--access FILE.json]
              [--auth-domain HOST[:PORT]]... [--fuel N] [--memory PAGES] [--deadline MS] [--max-input BYTES]
              [--max-output BYTES] [--price N] [--storage DIR] [--json]
              [--description TEXT] [--readme FILE.md] [--example-input TEXT --example-output TEXT | --examples FILE.json]
              [--secret NAME=FILE]... [--key-holders N] [--threshold T] [--executors KEY,…]
              [--bootstrap host:port[,…] | --node URL] [--wait MS]`,
    help: `Signs the module with your key (\`shadw keys create\` first) and appends it to your registry in
the super node's storage. The storage must not be held by a running node (STORAGE_LOCKED):
publish, then \`shadw start\` serves it.

options:
  --name, --version  the function's name and semver version
  --abi raw|wasi     how it takes input (docs/abi.md)
  --access FILE      Lit access control conditions (JSON array); --auth-domain the hosts auth is for
  --fuel, --memory, --deadline, --max-input, --max-output   limits executors enforce
  --price N          floor price in µcredits per million fuel
  --description TEXT one line (≤ 280 chars) the catalogue shows; --readme FILE.md a README (≤ 16 KiB)
  --example-input/--example-output TEXT, or --examples FILE.json   examples the catalogue offers to try
${STORAGE_OPTION}
  --json             print JSON

secrets (docs/access.md, "Function secrets"):
  --secret NAME=FILE the function finds FILE's bytes (16-64; one trailing newline dropped) in its
                     environment variable NAME. Split among key holders (super nodes started with
                     --key-holder), released only to --executors, for calls whose auth passes
                     --access (sign it with shadw auth sign --call). Needs --abi wasi, --access and
                     --auth-domain. Repeatable. Progress on stderr.
  --key-holders N    how many key holders get a share of each secret (2..32, default 3)
  --threshold T      how many of them rebuild it (2..N, default 2); fewer learn nothing
  --executors LIST   node keys (hex, comma-separated) of the executors trusted with the secrets
                     (default: the super node on --storage)
  --bootstrap LIST, --node URL   the swarm the key holders are on (default: the local super node's)
  --wait MS          how long to look for N key holders (default 30000): NOT_ENOUGH_HOLDERS
                     names how many answered

example:
  shadw publish examples/sha256/sha256.wasm --name my-sha256 --version 1.0.0 --abi raw
  shadw publish app.wasm --name app --version 1.0.0 --abi wasi --access gate.json \
    --auth-domain app.example --secret API_KEY=api-key.txt --key-holders 5 --threshold 3`,
    run: async argv => await (await import('./registry-commands.ts')).publishCommand(argv)
  },
  {
    name: 'list',
    summary: 'list a publisher\'s functions in the local storage',
    usage: 'shadw list [PUBLISHER] [--storage DIR] [--json]',
    help: `Lists the functions and versions of PUBLISHER (default: your own key) that the storage holds.

options:
${STORAGE_OPTION}
  --json          print JSON`,
    run: async argv => await (await import('./registry-commands.ts')).listCommand(argv)
  },
  {
    name: 'yank',
    summary: 'mark one of your versions as not to be run',
    usage: 'shadw yank <[PUBLISHER/]NAME@VERSION> [--reason TEXT] [--storage DIR]',
    help: `Signs a tombstone for an exact version: executors refuse to run it and ranges skip it.

options:
  --reason TEXT   said to whoever asks for it
${STORAGE_OPTION}`,
    run: async argv => await (await import('./registry-commands.ts')).yankCommand(argv)
  },
  {
    name: 'inspect',
    summary: 'show a function\'s verified manifest',
    usage: 'shadw inspect <[PUBLISHER/]NAME[@RANGE]> [--storage DIR] [--json]',
    help: `Resolves the range, verifies the signed manifest (and the module bytes when stored here) and
prints it. NAME alone means one of your own functions; an alias from aliases.json works too.

options:
${STORAGE_OPTION}
  --json          print JSON`,
    run: async argv => await (await import('./registry-commands.ts')).inspectCommand(argv)
  },
  {
    name: 'follow',
    summary: 'have the local super node mirror and serve a publisher\'s registry',
    usage: 'shadw follow [PUBLISHER] [--storage DIR]',
    help: `Adds PUBLISHER to the registries the super node on this storage mirrors from its next start;
without PUBLISHER, lists the followed ones.

options:
${STORAGE_OPTION}`,
    run: async argv => await (await import('./registry-commands.ts')).followCommand(argv)
  },
  {
    name: 'invoke',
    summary: 'invoke a function on the swarm; prints its output and signed receipts',
    usage: `shadw invoke <[PUBLISHER/]NAME@RANGE> [--input FILE|-] [--redundancy K] [--quorum Q] [--deadline MS]
             [--max-charge µCREDITS] [--auth FILE.json] [--mount DRIVE[@VERSION|@latest][:FROM]::GUEST]...
             [--grant GRANT.json]... [--block CHAIN=N]... [--bootstrap host:port[,…] | --node URL] [--json]`,
    help: `Starts a light node on the swarm of a super node (default http://127.0.0.1:4173/), calls the
function on K executors and accepts the result Q of them signed alike. NAME@RANGE alone is one of
your own functions (\`shadw keys\`), or an alias from aliases.json. The output goes to stdout
as bytes; the receipts to stderr. A failed quorum lists each executor's answer or error code.

options:
  --input FILE|-      input bytes (- reads stdin; default: empty)
  --redundancy K      executors to ask (default 1); --quorum Q how many must agree (default: a majority)
  --deadline MS       for the whole call, connecting included (default 10000)
  --max-charge N      refuse executors that would charge more µcredits than N
  --auth FILE         a Lit AuthSig for functions with access conditions
  --block CHAIN=N     read the conditions on CHAIN at block N (every executor alike; each refuses
                      a block ahead of its head or more than 64 behind); repeatable, one per chain
  --mount DRIVE[@VERSION|@latest][:FROM]::GUEST
                      run over folder FROM (default /) of a drive, at guest path GUEST, read-only;
                      latest (the default) is pinned here so every executor reads the same
                      version, which the receipts name. A private drive's key comes from your
                      drive key store. Repeatable. Executors holding the drive are preferred.
  --grant FILE        a private drive's key grant (\`shadw drive share-key\`) instead of its key:
                      each executor fetches the key from the drive's key holders for this call
                      only, with --auth, which must unlock it (\`shadw auth sign --fn REF
                      --domain HOST --unlock FILE\`). For a --mount of that drive; repeatable.
  --node URL          the super node whose DHT to join; --bootstrap joins host:port nodes directly
  --json              one JSON document (output, receipts) that \`shadw verify-receipt\` reads

example:
  echo -n hello | shadw invoke <publisher>/sha256@^1 --input - --redundancy 3`,
    run: async argv => await (await import('./invoke.ts')).invokeCommand(argv)
  },
  {
    name: 'examples',
    summary: 'list the examples the first start published, with their references',
    usage: 'shadw examples [--key] [--storage DIR] [--json]',
    help: `The first \`shadw start\` on empty storage publishes examples/ under a local example publisher
whose key stays in the storage. This prints their references (it reads only that key, so it
works while the node runs).

options:
  --key           print only the example publisher's key
${STORAGE_OPTION}
  --json          print JSON

example:
  P=$(npx shadw examples --key)
  printf hello | npx shadw invoke $P/sha256@1 --input -`,
    run: async argv => await (await import('./examples-command.ts')).examplesCommand(argv)
  },
  {
    name: 'search',
    summary: 'search the functions a running node knows of (its catalogue)',
    usage: 'shadw search [TERM] [--limit N] [--cursor C] [--node URL] [--json]',
    help: `Lists the functions in a super node's catalogue (GET /api/functions): name, version, description,
ABI, price, access, publisher and how many executors hold it. TERM matches names and descriptions.

options:
  --limit N       at most N results (1-100)
  --cursor C      the next page, as the previous answer named it
  --node URL      the super node to ask (default http://127.0.0.1:4173/)
  --json          print JSON`,
    run: async argv => await (await import('./catalogue-commands.ts')).searchCommand(argv)
  },
  {
    name: 'show',
    summary: 'show one function: manifest, conditions, price, examples, README',
    usage: 'shadw show <PUBLISHER/NAME[@RANGE]> [--node URL] [--json]',
    help: `Prints a function's verified manifest from a super node's catalogue, with a shadw invoke line that
runs its first example.

options:
  --node URL      the super node to ask (default http://127.0.0.1:4173/)
  --json          print JSON`,
    run: async argv => await (await import('./catalogue-commands.ts')).showCommand(argv)
  },
  {
    name: 'drive',
    summary: 'drives: create, put, ls, get files; pin a drive on holders, see its holders and health',
    usage: 'shadw drive <subcommand> [options]',
    help: `Drives are versioned file trees on Hypercore logs, owned by a key pair kept in your key store
(docs/storage.md). Pinning asks holders (super and storm nodes, opted-in browser tabs) to keep full
replicas within their disk budgets; each holder signs that it holds every block. Like invoke, the
networked subcommands run a light node on the DHT (--bootstrap or --node).`,
    subcommands: Object.entries(DRIVE_COMMANDS).map(([name, c]) => ({ name, summary: c.summary, usage: c.usage })),
    run: async argv => await driveCommand(argv)
  },
  {
    name: 'auth',
    summary: "sign a tenant's auth file for one function (shadw auth sign)",
    usage: 'shadw auth sign --fn PUBLISHER/NAME@VERSION --domain HOST[:PORT] [--chain ethereum|solana|both] [--key FILE] [--solana-key FILE] [--expires 5m] [--out FILE] [--chain-id N] [--call] [--unlock GRANT.json|KEYID]...',
    help: `Writes the auth file \`shadw invoke --auth\` takes: a wallet's signature binding one function
and one domain, valid until --expires. SIWE (EIP-4361) with an Ethereum key, Sign In With Solana
with an ed25519 key (--chain solana), or Lit's per-family map of both (--chain both). Executors check it, then the function's access
conditions against chain state at a pinned block (docs/access.md).`,
    subcommands: [
      { name: 'sign', summary: 'sign an auth file for one function and domain', usage: 'shadw auth sign --fn PUBLISHER/NAME@VERSION --domain HOST[:PORT] [--chain ethereum|solana|both] [--key FILE] [--solana-key FILE] [--expires 5m] [--out FILE] [--chain-id N] [--call] [--unlock GRANT.json|KEYID]...' }
    ],
    run: async argv => await (await import('./auth.ts')).authCommand(argv)
  },
  {
    name: 'verify-receipt',
    summary: 'check receipts offline (executor signature, price, input and output hashes)',
    usage: 'shadw verify-receipt <FILE.json> [--input FILE] [--output FILE] [--json]',
    help: `FILE is one receipt or the --json output of \`shadw invoke\`; every receipt in it is checked.
A holder's storage receipt (kind pin, hold or serve) is checked too: signature and total against its price.

options:
  --input FILE    also check the receipt names these input bytes
  --output FILE   also check it names these output bytes
  --json          print JSON`,
    run: async argv => await (await import('./verify-receipt.ts')).verifyReceiptCommand(argv)
  }
]

/** The command named `name`, or undefined. */
export function findCommand (name: string): CliCommand | undefined {
  return COMMANDS.find(c => c.name === name)
}
