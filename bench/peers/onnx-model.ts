// ONNX model bytes for the peer graphs, written field by field.
// The graphs need five message types and a dozen fields, which is less code (and no dependency)
// than loading onnx.proto through a protobuf library. Field numbers are from onnx/onnx.proto.

import type { PeerCase } from './types.js';

const onnxFloat = 1; // TensorProto.DataType.FLOAT
const attrFloat = 1; // AttributeProto.AttributeType
const attrInt = 2;
const attrInts = 7;
const irVersion = 8;
const opsetVersion = 17; // Softmax over one axis (opset >= 13), supported by every ORT provider

class ProtoWriter {
  private readonly bytes: number[] = [];

  private varint(value: number): void {
    // Values here are small non-negative ints (dims, field tags) or -1 (an axis); protobuf
    // encodes negative int64 as ten-byte two's complement.
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.bytes.push(Number(v));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, value: number): this {
    this.tag(field, 0);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, 5);
    const buf = new DataView(new ArrayBuffer(4));
    buf.setFloat32(0, value, true);
    for (let i = 0; i < 4; i++) this.bytes.push(buf.getUint8(i));
    return this;
  }

  bytesField(field: number, data: Uint8Array): this {
    this.tag(field, 2);
    this.varint(data.length);
    for (const b of data) this.bytes.push(b);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytesField(field, new TextEncoder().encode(value));
  }

  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytesField(field, inner.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

type Attr = { name: string; f: number } | { name: string; i: number } | { name: string; ints: number[] };

interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Attr[];
}

interface OnnxValue {
  name: string;
  dims: number[];
}

interface OnnxGraph {
  nodes: OnnxNode[];
  inputs: OnnxValue[];
  outputs: OnnxValue[];
  /** Constant f32 tensors baked into the model. */
  initializers: { name: string; dims: number[]; data: Float32Array }[];
}

function writeAttr(w: ProtoWriter, a: Attr): void {
  w.string(1, a.name);
  if ('f' in a) w.float(2, a.f).int(20, attrFloat);
  else if ('i' in a) w.int(3, a.i).int(20, attrInt);
  else {
    for (const v of a.ints) w.int(8, v);
    w.int(20, attrInts);
  }
}

function writeValueInfo(w: ProtoWriter, v: OnnxValue): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, onnxFloat);
      tensor.message(2, (shape) => {
        for (const d of v.dims) shape.message(1, (dim) => dim.int(1, d));
      });
    }),
  );
}

export function encodeModel(g: OnnxGraph): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, irVersion); // ModelProto.ir_version
  w.string(2, 'tfx-bench'); // producer_name
  w.message(8, (op) => op.string(1, '').int(2, opsetVersion)); // opset_import
  w.message(7, (graph) => {
    g.nodes.forEach((n, idx) =>
      graph.message(1, (node) => {
        for (const i of n.inputs) node.string(1, i);
        for (const o of n.outputs) node.string(2, o);
        node.string(3, `${n.op.toLowerCase()}_${idx}`);
        node.string(4, n.op);
        for (const a of n.attrs ?? []) node.message(5, (attr) => writeAttr(attr, a));
      }),
    );
    graph.string(2, 'main');
    for (const t of g.initializers) {
      graph.message(5, (tensor) => {
        for (const d of t.dims) tensor.int(1, d);
        tensor.int(2, onnxFloat);
        tensor.string(8, t.name);
        tensor.bytesField(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      });
    }
    for (const v of g.inputs) graph.message(11, (vi) => writeValueInfo(vi, v));
    for (const v of g.outputs) graph.message(12, (vi) => writeValueInfo(vi, v));
  });
  return w.finish();
}

/** The graph for a case, and the names its feeds must use. Raw data is little-endian, as ONNX requires. */
export function peerGraph(c: PeerCase): OnnxGraph {
  if (c.op === 'matmul') {
    return {
      nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }],
      inputs: [
        { name: 'a', dims: [c.m, c.k] },
        { name: 'b', dims: [c.k, c.n] },
      ],
      outputs: [{ name: 'y', dims: [c.m, c.n] }],
      initializers: [],
    };
  }
  const qkv = [c.b, c.h, c.s, c.d];
  const scores = c.mask ? 'scaled' : 'masked';
  const nodes: OnnxNode[] = [
    { op: 'Transpose', inputs: ['k'], outputs: ['kt'], attrs: [{ name: 'perm', ints: [0, 1, 3, 2] }] },
    { op: 'MatMul', inputs: ['q', 'kt'], outputs: ['qk'] },
    { op: 'Mul', inputs: ['qk', 'scale'], outputs: [scores] },
  ];
  if (c.mask) nodes.push({ op: 'Add', inputs: ['scaled', 'bias'], outputs: ['masked'] });
  nodes.push(
    { op: 'Softmax', inputs: ['masked'], outputs: ['p'], attrs: [{ name: 'axis', i: -1 }] },
    { op: 'MatMul', inputs: ['p', 'v'], outputs: ['y'] },
  );
  return {
    nodes,
    inputs: [
      { name: 'q', dims: qkv },
      { name: 'k', dims: qkv },
      { name: 'v', dims: qkv },
      ...(c.mask ? [{ name: 'bias', dims: [c.b, 1, c.s, c.s] }] : []),
    ],
    outputs: [{ name: 'y', dims: qkv }],
    initializers: [{ name: 'scale', dims: [], data: Float32Array.of(1 / Math.sqrt(c.d)) }],
  };
}
