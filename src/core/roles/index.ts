/** A node's roles, assembled once for every host: each host passes its sandbox, storage-error reading and module cache (isomorphic). */
export { startExecutorRole, type ExecutorRole, type ExecutorRoleOptions, type LogWriteError } from './executor-role.ts'
export { startSigningRole, type SigningRole, type SigningRoleOptions } from './signing-role.ts'
export { startCallerRole, type CallerRole } from './caller-role.ts'
