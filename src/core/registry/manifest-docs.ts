/**
 * What a manifest says about its function to people: a one-line description, a markdown
 * README and a few input/output examples. All optional and all bounded, since they travel
 * inside the signed manifest to every node that indexes it.
 */
import b4a from 'b4a'
import { describeValue } from '../describe.ts'
import { ShadwError } from '../errors.ts'

/** A description is one line of at most this many characters: a catalogue row, a tweet. */
export const MAX_DESCRIPTION_LENGTH = 280
/** A README is at most this many UTF-8 bytes: a page of markdown, not a manual. */
export const MAX_README_BYTES = 16 * 1024
/** At most this many examples: enough to show a function's cases, few enough to index. */
export const MAX_EXAMPLES = 4
/** Each example's input and output are at most this many UTF-8 bytes. */
export const MAX_EXAMPLE_BYTES = 2 * 1024

/** One example call: the input to send and the output the function gives back, as UTF-8 text. */
export interface FunctionExample {
  input: string
  output: string
}

/** The documentation fields of a manifest; each absent (never empty) when not given. */
export interface ManifestDocs {
  description?: string
  readme?: string
  examples?: FunctionExample[]
}

/** Control characters other than tab and newline: a terminal or page must not be steered by a manifest. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/ // eslint-disable-line no-control-regex
/** A description is one line. */
const LINE_BREAK = /[\n\r\u2028\u2029]/

function fail (msg: string, field: string): never {
  throw ShadwError.MANIFEST_INVALID(msg, { field })
}

function text (v: unknown, field: string, maxBytes: number): string {
  if (typeof v !== 'string') fail(`${field} must be a string: ${describeValue(v)}`, field)
  if (b4a.byteLength(v) > maxBytes) fail(`${field} exceeds ${maxBytes} bytes`, field)
  if (CONTROL.test(v)) fail(`${field} holds control characters`, field)
  return v
}

/**
 * Checks the documentation fields of `o` and returns them clean: an empty description,
 * README or example list is left out, so each manifest has one form.
 *
 * @throws ShadwError `MANIFEST_INVALID` (details name the field) for a value out of bounds.
 */
export function validateDocs (o: Record<string, unknown>): ManifestDocs {
  const out: ManifestDocs = {}
  if (o['description'] !== undefined && o['description'] !== '') {
    const d = text(o['description'], 'description', MAX_DESCRIPTION_LENGTH * 4)
    if (d.length > MAX_DESCRIPTION_LENGTH) fail(`description exceeds ${MAX_DESCRIPTION_LENGTH} characters`, 'description')
    if (LINE_BREAK.test(d)) fail('description must be one line', 'description')
    out.description = d
  }
  if (o['readme'] !== undefined && o['readme'] !== '') out.readme = text(o['readme'], 'readme', MAX_README_BYTES)
  const ex = o['examples']
  if (ex !== undefined) {
    if (!Array.isArray(ex) || ex.length > MAX_EXAMPLES) fail(`examples must be an array of at most ${MAX_EXAMPLES} { input, output }`, 'examples')
    if (ex.length > 0) {
      out.examples = (ex as unknown[]).map((e, i) => {
        if (typeof e !== 'object' || e === null) fail(`examples[${i}] must be { input, output }`, `examples[${i}]`)
        const r = e as Record<string, unknown>
        return { input: text(r['input'], `examples[${i}].input`, MAX_EXAMPLE_BYTES), output: text(r['output'], `examples[${i}].output`, MAX_EXAMPLE_BYTES) }
      })
    }
  }
  return out
}

/** True when any documentation field is present (the manifest then needs body version 3). */
export function hasDocs (d: ManifestDocs): boolean {
  return d.description !== undefined || d.readme !== undefined || d.examples !== undefined
}
