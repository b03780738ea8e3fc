"""The prefilter as an ONNX graph, written node by node with onnx.helper so that it holds only
operators onnxruntime-web runs on WebGPU (a torch export adds Shape/Reshape/Cast glue).

Inputs  frame, reference: float32 [1, 3, 120, 160], RGB 0..1
Outputs (float32 [1], part_present [1, 1]):
  change          mean |gray(frame) - gray(reference)|
  sharpness       variance of the 3x3 Laplacian of gray(frame) (valid region), gray in 0..1
  exposure_mean   mean gray(frame)
  clipped_dark    fraction of gray pixels < 0.02
  clipped_bright  fraction of gray pixels > 0.98
  part_present    sigmoid score of a tiny CNN: part on the belt vs empty belt
Fractions use a steep clipped ramp, clip((t - g) * 1e6, 0, 1), instead of Less + Cast(bool):
the same count to within pixels 1e-6 from the threshold, with only float ops.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

H, W = 120, 160
OPSET = 17
GRAY = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R BT.601 luma
LAPLACIAN = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32)
DARK, BRIGHT, RAMP = 0.02, 0.98, 1e6
OUTPUTS = ["change", "sharpness", "exposure_mean", "clipped_dark", "clipped_bright", "part_present"]


def build(cnn: list, head_w: np.ndarray, head_b: np.ndarray) -> onnx.ModelProto:
    """cnn: [(weight [co, ci, 3, 3], bias [co], stride)] applied to the RGB frame with ReLU."""
    inits, nodes = [], []

    def const(name, value):
        inits.append(numpy_helper.from_array(np.asarray(value, np.float32), name))
        return name

    def node(op, inputs, output, **attrs):
        nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def mean_all(x, out):
        return node("ReduceMean", [x], out, axes=[1, 2, 3], keepdims=0)

    const("w_gray", GRAY.reshape(1, 3, 1, 1))
    const("w_lap", LAPLACIAN.reshape(1, 1, 3, 3))
    g = node("Conv", ["frame", "w_gray"], "gray")
    gr = node("Conv", ["reference", "w_gray"], "gray_ref")
    mean_all(node("Abs", [node("Sub", [g, gr], "diff")], "absdiff"), "change")

    lap = node("Conv", [g, "w_lap"], "laplacian")  # no padding: borders would add fake edges
    lap_mean = mean_all(lap, "lap_mean")
    lap_sq = mean_all(node("Mul", [lap, lap], "lap_sq_px"), "lap_sq")
    node("Sub", [lap_sq, node("Mul", [lap_mean, lap_mean], "lap_mean_sq")], "sharpness")

    mean_all(g, "exposure_mean")
    const("dark", DARK)
    const("bright", BRIGHT)
    const("ramp", RAMP)
    const("zero", 0.0)
    const("one", 1.0)
    dark = node("Clip", [node("Mul", [node("Sub", ["dark", g], "dark_margin"), "ramp"], "dark_ramp"), "zero", "one"], "is_dark")
    mean_all(dark, "clipped_dark")
    bright = node("Clip", [node("Mul", [node("Sub", [g, "bright"], "bright_margin"), "ramp"], "bright_ramp"), "zero", "one"], "is_bright")
    mean_all(bright, "clipped_bright")

    x = "frame"
    for i, (w, b, stride) in enumerate(cnn):
        conv = node("Conv", [x, const(f"c{i}_w", w), const(f"c{i}_b", b)], f"c{i}", kernel_shape=[3, 3], strides=[stride, stride], pads=[1, 1, 1, 1])
        x = node("Relu", [conv], f"c{i}_relu")
    pooled = node("Concat", [node("GlobalAveragePool", [x], "gap"), node("GlobalMaxPool", [x], "gmp")], "pooled", axis=1)
    logit = node("Conv", [pooled, const("head_w", head_w), const("head_b", head_b)], "part_logit")
    node("Flatten", [node("Sigmoid", [logit], "part_prob")], "part_present", axis=1)

    frame_t = helper.make_tensor_value_info("frame", TensorProto.FLOAT, [1, 3, H, W])
    ref_t = helper.make_tensor_value_info("reference", TensorProto.FLOAT, [1, 3, H, W])
    outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1]) for n in OUTPUTS[:-1]]
    outs.append(helper.make_tensor_value_info("part_present", TensorProto.FLOAT, [1, 1]))
    graph = helper.make_graph(nodes, "linesight_prefilter", [frame_t, ref_t], outs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="linesight")
    model.ir_version = 8  # onnx 1.12's default is readable by every onnxruntime-web 1.x
    onnx.checker.check_model(model, full_check=True)
    return model


def reference_outputs(frame: np.ndarray, reference: np.ndarray) -> dict:
    """numpy version of the fixed-function outputs, to check the graph against."""
    g = np.tensordot(GRAY, frame[0], axes=1)
    gr = np.tensordot(GRAY, reference[0], axes=1)
    lap = sum(LAPLACIAN[i, j] * g[i : i + H - 2, j : j + W - 2] for i in range(3) for j in range(3))
    return {
        "change": np.abs(g - gr).mean(), "sharpness": lap.var(), "exposure_mean": g.mean(),
        "clipped_dark": (g < DARK).mean(), "clipped_bright": (g > BRIGHT).mean(),
    }
