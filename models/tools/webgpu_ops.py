"""The operators onnxruntime-web's WebGPU backend runs on the GPU, read from the table that ships
with the installed package (node_modules/onnxruntime-web/docs/webgpu-operators.md, generated from
its kernel registrations), so the check follows whatever onnxruntime-web version is installed."""
import os
import re

DOC = "node_modules/onnxruntime-web/docs/webgpu-operators.md"


def webgpu_ops(doc: str = DOC) -> dict:
    """op -> opset ranges string, for ai.onnx ops that have a GPU kernel."""
    ops = {}
    for line in open(doc):
        m = re.match(r"\|\s*(\w+)\s*\|\s*([^|]*)\|\s*([^|]*)\|", line)
        if not m or m.group(1) in ("Operator",):
            continue
        op, opsets, comment = m.group(1), m.group(2), m.group(3)
        if "ai.onnx" not in opsets or "no GPU kernel" in comment:
            continue  # Reshape/Shape run on the CPU: every use costs a GPU->CPU sync
        ops[op] = opsets.strip()
    return ops


def check_graph_ops(model, doc: str = DOC) -> list:
    """Sorted op types of the graph; raises if one has no WebGPU kernel."""
    supported = webgpu_ops(doc)
    used = sorted({n.op_type for n in model.graph.node})
    missing = [op for op in used if op not in supported]
    if missing:
        raise ValueError(f"ops without a WebGPU kernel in {os.path.basename(doc)}: {missing}")
    return used
