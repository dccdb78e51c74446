// hyperdht's in-process DHT: the bootstrap node and a few peers of the embedded local DHT.
declare module 'hyperdht/testnet' {
  export interface TestnetNode {
    address (): { host: string, port: number }
    destroy (): Promise<void>
  }
  export interface Testnet {
    nodes: TestnetNode[]
    bootstrap: Array<{ host: string, port: number }>
    destroy (): Promise<void>
  }
  export default function createTestnet (size?: number, opts?: { host?: string, port?: number, bootstrap?: Array<{ host: string, port: number }>, teardown?: unknown }): Promise<Testnet>
}
