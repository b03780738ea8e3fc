/**
 * Reads what `models:add` needs from an ONNX file without running it: the graph's inputs and
 * outputs (name, element type, shape), its operators and opsets, and the `metadata_props` an
 * Ultralytics export writes (`names`, `imgsz`, `stride`, `task`, ...).
 *
 * onnxruntime's JavaScript API gives input and output names but not `metadata_props`, so this is a
 * small reader of protobuf's wire format for the few fields of onnx.proto it needs (field numbers
 * from https://github.com/onnx/onnx/blob/main/onnx/onnx.proto). Everything else is skipped by its
 * wire type, so a newer ONNX file with fields this reader does not know still reads.
 */

export class OnnxParseError extends Error {
  override name = 'OnnxParseError'
}

/** TensorProto.DataType values that matter here. */
export const ELEM_TYPES: Readonly<Record<number, string>> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  6: 'int32',
  7: 'int64',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  16: 'bfloat16',
}

export interface OnnxValueInfo {
  name: string
  /** 'float32', 'float16', ... or `type<N>` for one this reader does not name. */
  elemType: string
  /** One entry per axis: a number when fixed, the symbolic name (or '?') when dynamic. */
  shape: (number | string)[]
}

export interface OnnxSummary {
  irVersion: number
  producer: string
  opsets: Record<string, number>
  /** Graph inputs that are not initializers (the values a caller must feed). */
  inputs: OnnxValueInfo[]
  outputs: OnnxValueInfo[]
  /** Operator types used, e.g. Conv, ConvInteger, QuantizeLinear. */
  ops: string[]
  metadata: Record<string, string>
}

type Field = { field: number; wire: number; value: bigint | Uint8Array }

const decoder = new TextDecoder('utf-8', { fatal: false })

/** Iterates the fields of one protobuf message. */
function* fields(buf: Uint8Array): Generator<Field> {
  let pos = 0
  const varint = (): bigint => {
    let result = 0n
    let shift = 0n
    for (;;) {
      if (pos >= buf.length) throw new OnnxParseError('truncated varint')
      const byte = buf[pos++]!
      result |= BigInt(byte & 0x7f) << shift
      if ((byte & 0x80) === 0) return result
      shift += 7n
      if (shift > 63n) throw new OnnxParseError('varint longer than 64 bits')
    }
  }
  while (pos < buf.length) {
    const key = Number(varint())
    const field = key >>> 3
    const wire = key & 7
    if (field === 0) throw new OnnxParseError('field number 0')
    switch (wire) {
      case 0:
        yield { field, wire, value: varint() }
        break
      case 1:
        if (pos + 8 > buf.length) throw new OnnxParseError('truncated fixed64')
        pos += 8
        break
      case 2: {
        const len = Number(varint())
        if (len < 0 || pos + len > buf.length) throw new OnnxParseError(`length-delimited field ${field} runs past the end`)
        yield { field, wire, value: buf.subarray(pos, pos + len) }
        pos += len
        break
      }
      case 5:
        if (pos + 4 > buf.length) throw new OnnxParseError('truncated fixed32')
        pos += 4
        break
      default:
        throw new OnnxParseError(`wire type ${wire} (field ${field}) is not protobuf`)
    }
  }
}

const bytesOf = (f: Field) => (f.value instanceof Uint8Array ? f.value : new Uint8Array(0))
const str = (f: Field) => decoder.decode(bytesOf(f))
const num = (f: Field) => (typeof f.value === 'bigint' ? BigInt.asIntN(64, f.value) : 0n)

function valueInfo(buf: Uint8Array): OnnxValueInfo {
  const info: OnnxValueInfo = { name: '', elemType: 'unknown', shape: [] }
  for (const f of fields(buf)) {
    if (f.field === 1 && f.wire === 2) info.name = str(f)
    if (f.field !== 2 || f.wire !== 2) continue
    for (const t of fields(bytesOf(f))) {
      if (t.field !== 1 || t.wire !== 2) continue // TypeProto.tensor_type
      for (const tt of fields(bytesOf(t))) {
        if (tt.field === 1 && tt.wire === 0) {
          const code = Number(num(tt))
          info.elemType = ELEM_TYPES[code] ?? `type${code}`
        }
        if (tt.field !== 2 || tt.wire !== 2) continue // TensorShapeProto
        for (const d of fields(bytesOf(tt))) {
          if (d.field !== 1 || d.wire !== 2) continue
          let dim: number | string = '?'
          for (const v of fields(bytesOf(d))) {
            if (v.field === 1 && v.wire === 0) dim = Number(num(v))
            if (v.field === 2 && v.wire === 2) dim = str(v) || '?'
          }
          info.shape.push(dim)
        }
      }
    }
  }
  return info
}

/** Parses the ModelProto in `buf`; throws OnnxParseError when it is not one. */
export function inspectOnnx(buf: Uint8Array): OnnxSummary {
  const summary: OnnxSummary = { irVersion: 0, producer: '', opsets: {}, inputs: [], outputs: [], ops: [], metadata: {} }
  let graph: Uint8Array | undefined
  for (const f of fields(buf)) {
    if (f.field === 1 && f.wire === 0) summary.irVersion = Number(num(f))
    else if (f.field === 2 && f.wire === 2) summary.producer = str(f)
    else if (f.field === 7 && f.wire === 2) graph = bytesOf(f)
    else if (f.field === 8 && f.wire === 2) {
      let domain = ''
      let version = 0
      for (const o of fields(bytesOf(f))) {
        if (o.field === 1 && o.wire === 2) domain = str(o)
        if (o.field === 2 && o.wire === 0) version = Number(num(o))
      }
      summary.opsets[domain || 'ai.onnx'] = version
    } else if (f.field === 14 && f.wire === 2) {
      let key = ''
      let value = ''
      for (const e of fields(bytesOf(f))) {
        if (e.field === 1 && e.wire === 2) key = str(e)
        if (e.field === 2 && e.wire === 2) value = str(e)
      }
      if (key) summary.metadata[key] = value
    }
  }
  if (summary.irVersion <= 0 || !graph) throw new OnnxParseError('not an ONNX model (no ir_version or no graph)')

  const initializers = new Set<string>()
  const inputs: OnnxValueInfo[] = []
  const ops = new Set<string>()
  for (const f of fields(graph)) {
    if (f.wire !== 2) continue
    if (f.field === 1) {
      for (const n of fields(bytesOf(f))) if (n.field === 4 && n.wire === 2) ops.add(str(n))
    } else if (f.field === 5) {
      for (const t of fields(bytesOf(f))) if (t.field === 8 && t.wire === 2) initializers.add(str(t))
    } else if (f.field === 11) inputs.push(valueInfo(bytesOf(f)))
    else if (f.field === 12) summary.outputs.push(valueInfo(bytesOf(f)))
  }
  summary.inputs = inputs.filter((i) => !initializers.has(i.name))
  summary.ops = [...ops].sort()
  return summary
}

/** How a graph was quantized, from its operators; undefined for a float graph. */
export function quantization(ops: readonly string[]): string | undefined {
  if (ops.includes('ConvInteger') || ops.includes('MatMulInteger')) return 'int8 dynamic (ConvInteger)'
  if (ops.includes('QLinearConv')) return 'int8 QOperator (QLinearConv)'
  if (ops.includes('QuantizeLinear') && ops.includes('DequantizeLinear')) return 'int8 QDQ'
  return undefined
}
