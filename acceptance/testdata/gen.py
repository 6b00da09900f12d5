# gen.py writes opaque.onnx, the model of TestOpaqueNodesRoundTrip: core ops
# around nodes the IR does not know. Run it with Debian's python3-onnx from
# this directory:  /usr/bin/python3 gen.py
import numpy as np
import onnx
from onnx import TensorProto as T, helper as h, numpy_helper as nh

# A subgraph for the custom op's graph attribute.
body = h.make_graph([h.make_node("Neg", ["a"], ["b"], name="neg")], "body",
                    [h.make_tensor_value_info("a", T.FLOAT, [3])], [h.make_tensor_value_info("b", T.FLOAT, [3])])

nodes = [
    h.make_node("Relu", ["x"], ["r"], name="relu"),
    # Custom domain, every attribute kind, a doc string and an omitted optional input.
    h.make_node("Scale", ["r", "", "w"], ["s", "s_aux"], name="scale", domain="com.fermi.test",
                doc_string="custom op kept verbatim",
                i=3, f=0.5, st="mode", ints=[1, -2, 3], floats=[0.25, 4.0], strs=["a", "bc"],
                t=nh.from_array(np.array([[1, 2], [3, 4]], dtype=np.int32), "tattr"), g=body),
    # A default-domain op type that no ONNX opset defines.
    h.make_node("FrobnicateOp", ["s"], ["f"], name="frob", alpha=1.5, names=["p", "q"]),
    # A real ONNX op outside the core set.
    h.make_node("Hardmax", ["f"], ["hm"], name="hardmax", axis=-1),
    h.make_node("Add", ["hm", "s_aux"], ["y"], name="add"),
]
g = h.make_graph(nodes, "opaque",
                 [h.make_tensor_value_info("x", T.FLOAT, ["N", 3])],
                 [h.make_tensor_value_info("y", T.FLOAT, ["N", 3])],
                 initializer=[nh.from_array(np.array([1, 2, 3], dtype=np.float32), "w")])
m = h.make_model(g, opset_imports=[h.make_opsetid("", 13), h.make_opsetid("com.fermi.test", 2)], producer_name="acceptance-gen")
m.ir_version = 8
onnx.save(m, "opaque.onnx")
