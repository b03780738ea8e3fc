/**
 * Parameter count of an ONNX model: the elements of its graph initializers. The manifest does
 * not carry it and no ONNX parser is installed, so this walks the protobuf wire format directly,
 * reading only ModelProto.graph (7) -> GraphProto.initializer (5) -> TensorProto.dims (1).
 */

interface Cursor {
  buf: Uint8Array
  pos: number
}

function varint(c: Cursor): bigint {
  let shift = 0n
  let out = 0n
  for (;;) {
    if (c.pos >= c.buf.length) throw new RangeError('truncated varint')
    const b = c.buf[c.pos++]!
    out |= BigInt(b & 0x7f) << shift
    if (!(b & 0x80)) return out
    shift += 7n
  }
}

/** Calls `visit(field, wireType, cursor)` for each field of the message in `buf[start, end)`; skips what it does not consume. */
function fields(buf: Uint8Array, start: number, end: number, visit: (field: number, wire: number, value: { start: number; end: number } | bigint) => void): void {
  const c: Cursor = { buf, pos: start }
  while (c.pos < end) {
    const key = Number(varint(c))
    const field = key >>> 3
    const wire = key & 7
    if (wire === 0) visit(field, wire, varint(c))
    else if (wire === 2) {
      const len = Number(varint(c))
      visit(field, wire, { start: c.pos, end: c.pos + len })
      c.pos += len
    } else if (wire === 1) c.pos += 8
    else if (wire === 5) c.pos += 4
    else throw new RangeError(`unsupported protobuf wire type ${wire} at byte ${c.pos}`)
  }
}

function tensorElements(buf: Uint8Array, start: number, end: number): bigint {
  const dims: bigint[] = []
  fields(buf, start, end, (field, wire, v) => {
    if (field !== 1) return
    if (wire === 0) dims.push(v as bigint)
    else if (wire === 2) {
      // packed repeated int64
      const r = v as { start: number; end: number }
      const c: Cursor = { buf, pos: r.start }
      while (c.pos < r.end) dims.push(varint(c))
    }
  })
  return dims.reduce((a, b) => a * b, 1n)
}

export function onnxParameterCount(model: Uint8Array): { parameters: number; initializers: number } {
  let parameters = 0n
  let initializers = 0
  fields(model, 0, model.length, (field, wire, v) => {
    if (field !== 7 || wire !== 2) return
    const g = v as { start: number; end: number }
    fields(model, g.start, g.end, (gf, gw, gv) => {
      if (gf !== 5 || gw !== 2) return
      const t = gv as { start: number; end: number }
      parameters += tensorElements(model, t.start, t.end)
      initializers++
    })
  })
  return { parameters: Number(parameters), initializers }
}
