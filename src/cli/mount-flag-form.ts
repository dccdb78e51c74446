/**
 * The words of `--mount` in usage and help, apart from its parsing (mount-flag.ts), which
 * loads the drive code: `shadw run` prints them without loading it.
 */

/** The flag's form, for usage lines. */
export const MOUNT_FLAG_FORM = '--mount DRIVE[@VERSION|@latest][:FROM]::GUEST'

/** The flag's help lines (indented like `shadw run`'s other options). */
export const MOUNT_FLAG_HELP = `  ${MOUNT_FLAG_FORM}
                        WASI: mount folder FROM (default /) of drive DRIVE (64 hex) from the
                        swarm at GUEST, read-only: writes vanish with the call. VERSION pins
                        one version; latest (the default) is the newest the swarm knows.
                        A private drive's key is read from your drive key store. Repeatable.`
