"""Dynamic int8 quantization with ConvInteger, as onnxruntime's quantize_dynamic writes it:
activations are quantized at run time by DynamicQuantizeLinear (uint8, scale and zero point from
each tensor's own min/max), weights are stored as uint8 with a per-tensor zero point, and the
int32 result is rescaled: y = float(ConvInteger(xq, wq, xzp, wzp)) * x_scale * w_scale + bias."""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def quantize_dynamic(model: onnx.ModelProto) -> onnx.ModelProto:
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    nodes, new_inits, consumed = [], [], set()
    for node in g.node:
        if node.op_type != "Conv":
            nodes.append(node)
            continue
        x, wn = node.input[0], node.input[1]
        consumed.add(wn)
        w = numpy_helper.to_array(inits[wn]).astype(np.float32)
        lo, hi = min(float(w.min()), 0.0), max(float(w.max()), 0.0)
        w_scale = np.float32(max(hi - lo, 1e-8) / 255.0)
        w_zp = np.uint8(np.clip(round(-lo / w_scale), 0, 255))
        w_q = np.clip(np.round(w / w_scale) + int(w_zp), 0, 255).astype(np.uint8)
        p = node.name or node.output[0]
        new_inits += [
            numpy_helper.from_array(w_q, f"{wn}_quantized"), numpy_helper.from_array(np.array(w_zp), f"{wn}_zero_point"),
            numpy_helper.from_array(np.array(w_scale), f"{wn}_scale"),
        ]
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        nodes += [
            helper.make_node("DynamicQuantizeLinear", [x], [f"{p}_xq", f"{p}_xs", f"{p}_xzp"], name=f"{p}_dql"),
            helper.make_node("ConvInteger", [f"{p}_xq", f"{wn}_quantized", f"{p}_xzp", f"{wn}_zero_point"], [f"{p}_int"], name=f"{p}_convint", **attrs),
            helper.make_node("Cast", [f"{p}_int"], [f"{p}_f"], name=f"{p}_cast", to=TensorProto.FLOAT),
            helper.make_node("Mul", [f"{p}_xs", f"{wn}_scale"], [f"{p}_s"], name=f"{p}_scale"),
        ]
        if len(node.input) > 2:
            bn = node.input[2]
            consumed.add(bn)
            b = numpy_helper.to_array(inits[bn]).astype(np.float32).reshape(1, -1, 1, 1)
            new_inits.append(numpy_helper.from_array(b, f"{bn}_reshaped"))
            nodes += [
                helper.make_node("Mul", [f"{p}_f", f"{p}_s"], [f"{p}_scaled"], name=f"{p}_rescale"),
                helper.make_node("Add", [f"{p}_scaled", f"{bn}_reshaped"], [node.output[0]], name=f"{p}_bias"),
            ]
        else:
            nodes.append(helper.make_node("Mul", [f"{p}_f", f"{p}_s"], [node.output[0]], name=f"{p}_rescale"))
    kept = [i for i in g.initializer if i.name not in consumed]
    graph = helper.make_graph(nodes, g.name + "_dynamic_int8", list(g.input), list(g.output), kept + new_inits)
    q = helper.make_model(graph, opset_imports=list(model.opset_import), producer_name="linesight")
    q.ir_version = model.ir_version
    for p in model.metadata_props:
        q.metadata_props.add(key=p.key, value=p.value)
    onnx.checker.check_model(q)
    return q
