/**
 * Reading the `metadata_props` an Ultralytics ONNX export carries. Ultralytics writes each value
 * as Python's `str(value)`, so `names` is a dict repr such as `{0: 'person', 1: "driver's seat"}`
 * and `imgsz` a list repr such as `[640, 640]`.
 */
export interface UltralyticsMetadata {
  names?: string[]
  imgsz?: [height: number, width: number]
  stride?: number
  task?: string
  batch?: number
  end2end?: boolean
  description?: string
  version?: string
}

export class MetadataError extends Error {
  override name = 'MetadataError'
}

const PY_STRING = String.raw`'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"`

function unquote(literal: string): string {
  const body = literal.slice(1, -1)
  return body.replace(/\\(.)/g, (_, ch: string) => ({ n: '\n', t: '\t', r: '\r' })[ch] ?? ch)
}

/** Parses a Python dict repr `{0: 'a', 1: 'b'}` or list repr `['a', 'b']` of class names. */
export function parseNames(value: string): string[] {
  const text = value.trim()
  if (text.startsWith('[')) {
    const items = [...text.matchAll(new RegExp(PY_STRING, 'g'))].map((m) => unquote(m[0]))
    return items
  }
  if (!text.startsWith('{') || !text.endsWith('}')) {
    throw new MetadataError(`metadata "names" is neither a dict nor a list: ${text.slice(0, 80)}`)
  }
  const entries = [...text.matchAll(new RegExp(String.raw`(\d+)\s*:\s*(${PY_STRING})`, 'g'))]
  const names: string[] = []
  for (const [, id, literal] of entries) names[Number(id)] = unquote(literal!)
  for (let i = 0; i < names.length; i++) {
    if (names[i] === undefined) throw new MetadataError(`metadata "names" has no entry for class ${i}`)
  }
  return names
}

function parseIntList(value: string): number[] {
  return [...value.matchAll(/-?\d+/g)].map((m) => Number(m[0]))
}

export function parseUltralyticsMetadata(props: Readonly<Record<string, string>>): UltralyticsMetadata {
  const meta: UltralyticsMetadata = {}
  if (props.names !== undefined) meta.names = parseNames(props.names)
  if (props.imgsz !== undefined) {
    const dims = parseIntList(props.imgsz)
    if (dims.length === 1) meta.imgsz = [dims[0]!, dims[0]!]
    else if (dims.length === 2) meta.imgsz = [dims[0]!, dims[1]!]
    else throw new MetadataError(`metadata "imgsz" is not one or two integers: ${props.imgsz}`)
  }
  if (props.stride !== undefined) meta.stride = Number(parseIntList(props.stride)[0])
  if (props.batch !== undefined) meta.batch = Number(props.batch)
  if (props.task !== undefined) meta.task = props.task.trim()
  if (props.end2end !== undefined) meta.end2end = props.end2end.trim() === 'True'
  if (props.description !== undefined) meta.description = props.description
  if (props.version !== undefined) meta.version = props.version
  return meta
}
