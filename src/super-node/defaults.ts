/**
 * The super node's defaults that commands name without starting one. Kept apart from
 * super-node.ts so that a command such as `shadw run` does not load the whole node (the
 * swarm, drives, access readers) to print a default URL.
 */

/** Default HTTP port of the app, the API and the relay. */
export const DEFAULT_PORT = 4173
