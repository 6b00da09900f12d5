# gen.py writes the tiny ONNX models ortrun's tests run. Run it with Debian's
# python3-onnx from this directory:  /usr/bin/python3 gen.py
import onnx
from onnx import TensorProto as T, helper as h

def save(name, nodes, inputs, outputs, inits=(), opset=13, check=True):
    g = h.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)], producer_name="ortrun-gen")
    m.ir_version = 8
    if check:
        onnx.checker.check_model(m, full_check=True)
    onnx.save(m, name + ".onnx")

# identity_<dtype>: y = x for x of shape [N,3] (symbolic N).
for dt in ["FLOAT", "DOUBLE", "INT64", "INT32", "INT8", "UINT8", "BOOL", "FLOAT16"]:
    t = getattr(T, dt)
    save("identity_" + dt.lower(), [h.make_node("Identity", ["x"], ["y"], name="id")],
         [h.make_tensor_value_info("x", t, ["N", 3])], [h.make_tensor_value_info("y", t, ["N", 3])])

# identity_scalar: rank-0 float32 and int64 in, the same out.
save("identity_scalar",
     [h.make_node("Identity", ["a"], ["b"], name="id_a"), h.make_node("Identity", ["i"], ["j"], name="id_i")],
     [h.make_tensor_value_info("a", T.FLOAT, []), h.make_tensor_value_info("i", T.INT64, [])],
     [h.make_tensor_value_info("b", T.FLOAT, []), h.make_tensor_value_info("j", T.INT64, [])])

# affine: y = 2x + 1 and z = sum(x) over the last axis, x of shape [N,4].
save("affine",
     [h.make_node("Mul", ["x", "two"], ["t"], name="mul"), h.make_node("Add", ["t", "one"], ["y"], name="add"),
      h.make_node("ReduceSum", ["x", "axes"], ["z"], name="sum", keepdims=0)],
     [h.make_tensor_value_info("x", T.FLOAT, ["N", 4])],
     [h.make_tensor_value_info("y", T.FLOAT, ["N", 4]), h.make_tensor_value_info("z", T.FLOAT, ["N"])],
     [h.make_tensor("two", T.FLOAT, [], [2.0]), h.make_tensor("one", T.FLOAT, [], [1.0]),
      h.make_tensor("axes", T.INT64, [1], [-1])])

# cast_f16: y = float16(x), x of static shape [2,3] (float16 outputs need a static shape).
save("cast_f16", [h.make_node("Cast", ["x"], ["y"], name="cast", to=T.FLOAT16)],
     [h.make_tensor_value_info("x", T.FLOAT, [2, 3])], [h.make_tensor_value_info("y", T.FLOAT16, [2, 3])])

# reshape_norank: y = reshape(x, s) with s of unknown length, so y's rank is
# unknown (ONNX Runtime then reports no dims for it, like a scalar's).
save("reshape_norank", [h.make_node("Reshape", ["x", "s"], ["y"], name="reshape")],
     [h.make_tensor_value_info("x", T.FLOAT, [4]), h.make_tensor_value_info("s", T.INT64, ["K"])],
     [h.make_tensor_value_info("y", T.FLOAT, None)],
     check=False)  # onnx 1.12's checker insists on graph output shapes; ONNX Runtime does not

# constant: no inputs at all.
save("constant", [h.make_node("Constant", [], ["y"], name="c", value=h.make_tensor("v", T.FLOAT, [1], [1.0]))],
     [], [h.make_tensor_value_info("y", T.FLOAT, [1])])
