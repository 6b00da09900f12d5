# gen.py writes the models crosscheck's tests read, plus small.nodes, the
# encoded NodeProtos of small.onnx (each as a 4-byte little-endian length and
# the bytes), as the onnx package itself serializes them. Run it with Debian's
# python3-onnx from this directory:  /usr/bin/python3 gen.py
import struct
import numpy as np
import onnx
from onnx import TensorProto as T, helper as h, numpy_helper as nh

def model(nodes, inputs, outputs, inits=(), opsets=(("", 13),)):
    g = h.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    m = h.make_model(g, opset_imports=[h.make_opsetid(d, v) for d, v in opsets], producer_name="crosscheck-gen")
    m.ir_version = 8
    return m

# small: y = x·W + B; z = com.example.Frob(y).
small = model(
    [h.make_node("MatMul", ["x", "W"], ["h"], name="mm"),
     h.make_node("Add", ["h", "B"], ["y"], name="add"),
     h.make_node("Frob", ["y"], ["z"], name="frob", domain="com.example", alpha=0.5)],
    [h.make_tensor_value_info("x", T.FLOAT, ["N", 4])],
    [h.make_tensor_value_info("z", T.FLOAT, ["N", 2])],
    [nh.from_array(np.arange(8, dtype=np.float32).reshape(4, 2) - 3.5, "W"),
     nh.from_array(np.array([0.25, -1], dtype=np.float32), "B"),
     nh.from_array(np.array([7, -2], dtype=np.int64), "K")],
    opsets=(("", 13), ("com.example", 1)))
small.graph.input[0].type.denotation = "TENSOR"  # a type field that is not the value kind
onnx.save(small, "small.onnx")
with open("small.nodes", "wb") as f:
    for n in small.graph.node:
        b = n.SerializeToString()
        f.write(struct.pack("<I", len(b)) + b)

# valid: small without the custom op, so the checker accepts it.
valid = onnx.ModelProto()
valid.CopyFrom(small)
del valid.graph.node[2]
del valid.opset_import[1]
valid.graph.output[0].name = "y"
onnx.checker.check_model(valid, full_check=True)
onnx.save(valid, "valid.onnx")

# bad_attr: Relu with an attribute Relu does not have.
bad = model([h.make_node("Relu", ["x"], ["y"], name="relu", frobnication=3)],
            [h.make_tensor_value_info("x", T.FLOAT, [2])], [h.make_tensor_value_info("y", T.FLOAT, [2])])
onnx.save(bad, "bad_attr.onnx")

# opset99: a model importing an opset no checker knows.
new = model([h.make_node("Relu", ["x"], ["y"], name="relu")],
            [h.make_tensor_value_info("x", T.FLOAT, [2])], [h.make_tensor_value_info("y", T.FLOAT, [2])], opsets=(("", 99),))
onnx.save(new, "opset99.onnx")

# unknown_op: an op no ONNX opset defines, in the default domain.
unknown = model([h.make_node("Frobnicate", ["x"], ["y"], name="frob")],
                [h.make_tensor_value_info("x", T.FLOAT, [2])], [h.make_tensor_value_info("y", T.FLOAT, [2])])
onnx.save(unknown, "unknown_op.onnx")

# seq: a sequence input, a tensor output.
seq = model([h.make_node("SequenceLength", ["s"], ["n"], name="len")],
            [h.make_tensor_sequence_value_info("s", T.FLOAT, None)], [h.make_tensor_value_info("n", T.INT64, [])])
onnx.checker.check_model(seq, full_check=True)
onnx.save(seq, "seq.onnx")
