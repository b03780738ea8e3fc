import { describe, expect, it } from 'vitest'
import { channelMeanModel } from '../test/fixtures/onnx-writer.ts'
import { onnxParameterCount } from './onnx-params.ts'

// protobuf writing, just enough for a graph with initializers
const varint = (n: number): number[] => {
  const out: number[] = []
  do {
    out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0))
    n >>>= 7
  } while (n > 0)
  return out
}
const field = (f: number, wire: number) => varint((f << 3) | wire)
const bytes = (f: number, b: number[]) => [...field(f, 2), ...varint(b.length), ...b]
const int = (f: number, n: number) => [...field(f, 0), ...varint(n)]
const name = (f: number, s: string) => bytes(f, [...new TextEncoder().encode(s)])

/** TensorProto with dims written one by one (field 1, varint) or packed (field 1, length-delimited). */
const tensor = (dims: number[], packed: boolean) => [...(packed ? bytes(1, dims.flatMap(varint)) : dims.flatMap((d) => int(1, d))), ...int(2, 1), ...name(8, 'w')]

function modelWith(initializers: number[][]): Uint8Array {
  const graph = [...name(2, 'g'), ...initializers.flatMap((dims, i) => bytes(5, tensor(dims, i % 2 === 0)))]
  return Uint8Array.from([...int(1, 8), ...bytes(7, graph)])
}

describe('ONNX parameter count', () => {
  it('counts the elements of every initializer, packed dims or not', () => {
    expect(onnxParameterCount(modelWith([[3, 4], [5], [2, 3, 4, 5]]))).toEqual({ parameters: 12 + 5 + 120, initializers: 3 })
  })

  it('counts nothing in a graph without initializers', () => {
    expect(onnxParameterCount(channelMeanModel())).toEqual({ parameters: 0, initializers: 0 })
  })

  it('refuses a file that is not protobuf rather than inventing a count', () => {
    expect(() => onnxParameterCount(Uint8Array.from([0x0f, 0xff, 0xff]))).toThrow(/wire type|truncated/)
  })
})
