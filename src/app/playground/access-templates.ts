/**
 * Access condition templates for the publish form: each names its inputs and builds Lit
 * unified access control conditions from them (docs/access.md). Wallet lists and time windows
 * are decided by the node itself; balances and NFTs need the Lit network at call time.
 */
export interface TemplateInput {
  id: string
  label: string
  placeholder: string
  hint?: string
}

export interface AccessTemplate {
  id: string
  label: string
  inputs: TemplateInput[]
  /** @throws Error naming the input that is wrong */
  build (values: Record<string, string>): unknown[]
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/

function evm (standardContractType: string, contractAddress: string, method: string, parameters: string[], comparator: string, value: string, chain = 'ethereum'): Record<string, unknown> {
  return { conditionType: 'evmBasic', contractAddress, standardContractType, chain, method, parameters, returnValueTest: { comparator, value } }
}

function address (v: string | undefined, what: string): string {
  const a = (v ?? '').trim()
  if (!ADDRESS.test(a)) throw new Error(`${what} must be a 0x address of 40 hex digits`)
  return a
}

function seconds (v: string | undefined, what: string): number {
  const t = Date.parse(v ?? '')
  if (Number.isNaN(t)) throw new Error(`${what} must be a date and time`)
  return Math.floor(t / 1000)
}

export const ACCESS_TEMPLATES: AccessTemplate[] = [
  { id: 'public', label: 'Public: anyone may call', inputs: [], build: () => [] },
  {
    id: 'wallets',
    label: 'Wallet allow-list',
    inputs: [{ id: 'addresses', label: 'Allowed wallet addresses', placeholder: '0x…, 0x…', hint: 'Comma or line separated.' }],
    build (v) {
      const list = (v['addresses'] ?? '').split(/[\s,]+/).filter(s => s !== '').map(a => address(a, 'each address'))
      if (list.length === 0) throw new Error('the allow-list needs at least one address')
      return list.flatMap((a, i) => [...(i === 0 ? [] : [{ operator: 'or' }]), evm('', '', '', [':userAddress'], '=', a)])
    }
  },
  {
    id: 'time',
    label: 'Time window',
    inputs: [
      { id: 'from', label: 'Callable from', placeholder: '2026-01-01T00:00' },
      { id: 'until', label: 'Callable until', placeholder: '2026-12-31T23:59' }
    ],
    build (v) {
      const from = seconds(v['from'], 'start'); const until = seconds(v['until'], 'end')
      if (until <= from) throw new Error('the window must end after it starts')
      return [
        evm('timestamp', '', 'eth_getBlockByNumber', ['latest'], '>=', String(from)),
        { operator: 'and' },
        evm('timestamp', '', 'eth_getBlockByNumber', ['latest'], '<=', String(until))
      ]
    }
  },
  {
    id: 'token',
    label: 'ERC-20 token balance',
    inputs: [
      { id: 'contract', label: 'Token contract', placeholder: '0x…' },
      { id: 'min', label: 'Minimum balance (smallest unit)', placeholder: '1000000000000000000' }
    ],
    build (v) {
      const min = (v['min'] ?? '').trim()
      if (!/^[0-9]{1,78}$/.test(min)) throw new Error('minimum balance must be a whole number')
      return [evm('ERC20', address(v['contract'], 'token contract'), 'balanceOf', [':userAddress'], '>=', min)]
    }
  },
  {
    id: 'nft',
    label: 'NFT ownership (ERC-721)',
    inputs: [{ id: 'contract', label: 'NFT contract', placeholder: '0x…' }],
    build (v) {
      return [evm('ERC721', address(v['contract'], 'NFT contract'), 'balanceOf', [':userAddress'], '>', '0')]
    }
  }
]
