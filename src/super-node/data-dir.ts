import { homedir, platform } from 'node:os'
import { join } from 'node:path'

/**
 * Where a user's shadw data lives by default, following each platform's convention
 * (XDG base directories on Linux). `config` holds keys, `data` holds logs.
 */
export function defaultDir (kind: 'data' | 'config', env: NodeJS.ProcessEnv = process.env): string {
  const home = homedir()
  switch (platform()) {
    case 'darwin':
      return join(home, 'Library', kind === 'data' ? 'Application Support' : 'Preferences', 'shadw')
    case 'win32':
      return join(env['APPDATA'] ?? join(home, 'AppData', 'Roaming'), 'shadw', kind)
    default: {
      const base = kind === 'data'
        ? env['XDG_DATA_HOME'] ?? join(home, '.local', 'share')
        : env['XDG_CONFIG_HOME'] ?? join(home, '.config')
      return join(base, 'shadw')
    }
  }
}
