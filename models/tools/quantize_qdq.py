"""Static int8 quantization in QDQ format, written with the onnx helper API (no onnxruntime
Python here): every Conv reads DequantizeLinear(QuantizeLinear(activation)) and an int8
per-output-channel weight through DequantizeLinear, bias as int32 (scale = x_scale * w_scale),
and its output passes Q/DQ too, the pattern onnxruntime fuses into QLinearConv.

Activation ranges come from running the float model in onnxruntime-node on sample frames
(lib/activation-ranges.ts), since that is the runtime this model is meant for.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _uint8_params(lo: float, hi: float):
    lo, hi = min(lo, 0.0), max(hi, 0.0)  # the range must contain 0 so padding quantizes exactly
    scale = max(hi - lo, 1e-8) / 255.0
    zp = int(np.clip(round(-lo / scale), 0, 255))
    return np.float32(scale), np.uint8(zp)


def quantize_qdq(model: onnx.ModelProto, ranges: dict) -> onnx.ModelProto:
    """ranges: tensor name -> [min, max] for every Conv input and output."""
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    new_inits, nodes = [], []
    qdq_done = {}

    def qdq(tensor: str) -> str:
        """Q/DQ pair for an activation, shared by all its consumers."""
        if tensor in qdq_done:
            return qdq_done[tensor]
        scale, zp = _uint8_params(*ranges[tensor])
        s, z = f"{tensor}_scale", f"{tensor}_zp"
        new_inits.extend([numpy_helper.from_array(np.array(scale), s), numpy_helper.from_array(np.array(zp), z)])
        nodes.append(helper.make_node("QuantizeLinear", [tensor, s, z], [f"{tensor}_q"], name=f"{tensor}_Q"))
        nodes.append(helper.make_node("DequantizeLinear", [f"{tensor}_q", s, z], [f"{tensor}_dq"], name=f"{tensor}_DQ"))
        qdq_done[tensor] = f"{tensor}_dq"
        return qdq_done[tensor]

    rename = {}  # Conv output -> its DQ output, for downstream consumers
    for node in g.node:
        inputs = [rename.get(i, i) for i in node.input]
        if node.op_type != "Conv":
            nodes.append(helper.make_node(node.op_type, inputs, list(node.output), name=node.name, **{a.name: helper.get_attribute_value(a) for a in node.attribute}))
            continue
        x = qdq(node.input[0])
        w = numpy_helper.to_array(inits[node.input[1]]).astype(np.float32)
        w_scale = (np.abs(w).reshape(w.shape[0], -1).max(1) / 127.0).clip(min=1e-8).astype(np.float32)
        w_q = np.clip(np.round(w / w_scale[:, None, None, None]), -127, 127).astype(np.int8)
        wn = node.input[1]
        new_inits += [
            numpy_helper.from_array(w_q, f"{wn}_q"), numpy_helper.from_array(w_scale, f"{wn}_scale"),
            numpy_helper.from_array(np.zeros(len(w_scale), np.int8), f"{wn}_zp"),
        ]
        nodes.append(helper.make_node("DequantizeLinear", [f"{wn}_q", f"{wn}_scale", f"{wn}_zp"], [f"{wn}_dq"], name=f"{wn}_DQ", axis=0))
        conv_inputs = [x, f"{wn}_dq"]
        if len(node.input) > 2:
            bn = node.input[2]
            b = numpy_helper.to_array(inits[bn]).astype(np.float32)
            x_scale, _ = _uint8_params(*ranges[node.input[0]])
            b_scale = (x_scale * w_scale).astype(np.float32)
            new_inits += [
                numpy_helper.from_array(np.round(b / b_scale).astype(np.int32), f"{bn}_q"), numpy_helper.from_array(b_scale, f"{bn}_scale"),
                numpy_helper.from_array(np.zeros(len(b_scale), np.int32), f"{bn}_zp"),
            ]
            nodes.append(helper.make_node("DequantizeLinear", [f"{bn}_q", f"{bn}_scale", f"{bn}_zp"], [f"{bn}_dq"], name=f"{bn}_DQ", axis=0))
            conv_inputs.append(f"{bn}_dq")
        out = node.output[0]
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        nodes.append(helper.make_node("Conv", conv_inputs, [f"{out}_float"], name=node.name, **attrs))
        ranges[f"{out}_float"] = ranges[out]
        rename[out] = qdq(f"{out}_float")
    outputs = [o for o in g.output]
    for o in outputs:  # a graph output produced by a Conv keeps its name through an Identity
        if o.name in rename:
            nodes.append(helper.make_node("Identity", [rename[o.name]], [o.name]))
    kept = [i for i in g.initializer if not any(n.op_type == "Conv" and i.name in n.input[1:] for n in g.node)]
    graph = helper.make_graph(nodes, g.name + "_qdq", list(g.input), outputs, kept + new_inits)
    q = helper.make_model(graph, opset_imports=list(model.opset_import), producer_name="linesight")
    q.ir_version = model.ir_version
    for p in model.metadata_props:
        q.metadata_props.add(key=p.key, value=p.value)
    onnx.checker.check_model(q)
    return q


def conv_tensors(model: onnx.ModelProto) -> list:
    """Activation tensors whose ranges quantization needs: every Conv's input and output."""
    names = []
    for n in model.graph.node:
        if n.op_type == "Conv":
            names += [n.input[0], n.output[0]]
    return sorted(set(names))


def with_outputs(model: onnx.ModelProto, tensors: list) -> onnx.ModelProto:
    """A copy of the model that also outputs the given intermediate tensors (for calibration)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    existing = {o.name for o in m.graph.output} | {i.name for i in m.graph.input}
    for t in tensors:
        if t not in existing:
            m.graph.output.append(helper.make_tensor_value_info(t, TensorProto.FLOAT, None))
    return m
