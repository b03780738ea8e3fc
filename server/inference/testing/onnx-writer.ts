/**
 * Test support: writes a tiny valid ONNX model that is *not* a detector (images -> per-channel
 * mean, output [N, 3]), so the "refuses a non-detector" tests need neither Python nor a
 * committed binary. Only the handful of protobuf fields such a graph needs.
 */

function varint(n: number): number[] {
  const out: number[] = []
  let v = BigInt(n)
  do {
    let byte = Number(v & 0x7fn)
    v >>= 7n
    if (v > 0n) byte |= 0x80
    out.push(byte)
  } while (v > 0n)
  return out
}

const enc = new TextEncoder()
const key = (field: number, wire: number) => varint((field << 3) | wire)
const int = (field: number, n: number) => [...key(field, 0), ...varint(n)]
const bytes = (field: number, b: number[] | Uint8Array) => [...key(field, 2), ...varint(b.length), ...b]
const str = (field: number, s: string) => bytes(field, enc.encode(s))

/** A dimension is a size, or a name for a dynamic axis. */
type Dim = number | string

function valueInfo(name: string, dims: Dim[]): number[] {
  const shape = dims.flatMap((d) => bytes(1, typeof d === 'number' ? int(1, d) : str(2, d)))
  const tensorType = [...int(1, 1 /* FLOAT */), ...bytes(2, shape)]
  return [...str(1, name), ...bytes(2, bytes(1, tensorType))]
}

function node(op: string, inputs: string[], outputs: string[], name: string): number[] {
  return [...inputs.flatMap((i) => str(1, i)), ...outputs.flatMap((o) => str(2, o)), ...str(3, name), ...str(4, op)]
}

/** images [N, 3, H, W] -> GlobalAveragePool -> Flatten -> output [N, 3]. */
export function channelMeanModel(opts: { input?: string; output?: string; size?: number } = {}): Uint8Array {
  const input = opts.input ?? 'images'
  const output = opts.output ?? 'output0'
  const size = opts.size ?? 320
  const graph = [
    ...bytes(1, node('GlobalAveragePool', [input], ['pooled'], 'pool')),
    ...bytes(1, node('Flatten', ['pooled'], [output], 'flatten')),
    ...str(2, 'channel-mean'),
    ...bytes(11, valueInfo(input, ['batch', 3, size, size])),
    ...bytes(12, valueInfo(output, ['batch', 3])),
  ]
  const model = [...int(1, 8 /* IR version */), ...str(2, 'linesight-test'), ...bytes(7, graph), ...bytes(8, [...str(1, ''), ...int(2, 17)])]
  return Uint8Array.from(model)
}
