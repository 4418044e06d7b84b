"""ONNX export of MLP-ensemble surrogates, for tools that serve ONNX (YAHPO-style benchmarks,
onnxruntime in another language).

The graph takes the feature matrix (``features``, float64, shape ``(n, F)``: what
:meth:`Surrogate.feature_matrix` builds from designs) and returns, per design and metric in the
surrogate's ``metric_names`` order (float64):

* ``mean``: the prediction in SI units (the ensemble mean, un-standardised, exponentiated where
  the metric is learned as its logarithm), as :meth:`Surrogate.predict` gives it (``evaluate``
  also clips non-negative metrics at 0);
* ``lower`` and ``upper``: the calibrated 90% interval (from the members' spread, or from the
  spread head of a network fitted with ``spread="head"``);
* ``feasible`` (only when the model learned feasibility): 1.0 where the design is predicted to
  run.

It computes what the JSON evaluator does, in the same precisions (the scaling and the ensemble
statistics in float64, the layers in float32), so the two agree to about 1e-5 relative.
Building the graph needs the ``onnx`` package, running it ``onnxruntime`` (``pip install archgym_py[onnx]``).
Only MLP ensembles without a prior export: trees, GPs and neighbours have no compact ONNX form
here, and a residual model's prior is another model.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .._errors import ArchGymError
from .._imports import optional_import
from .._trace import atomic_write_bytes
from ._portable import SPREAD_CAP, MLPEnsemble

if TYPE_CHECKING:
    from ._surrogate import Surrogate

#: ONNX operator set the graph uses (MatMul broadcasting, ReduceMean with axes as an input).
OPSET = 18


def export_onnx(model: Surrogate, path: str | Path) -> Path:
    """Write ``model`` as an ONNX graph to ``path`` (see the module docstring); returns the path."""
    from ._surrogate import STD_FLOOR

    onnx = optional_import("onnx", "ONNX export of a surrogate")
    helper, TensorProto = onnx.helper, onnx.TensorProto
    predictor = model.predictor
    if not isinstance(predictor, MLPEnsemble):
        raise ArchGymError(
            f"export_onnx: the model is a {predictor.kind!r} predictor; only 'mlp' ensembles "
            "export to ONNX (fit with family='mlp')"
        )
    if model.prior is not None:
        raise ArchGymError("export_onnx: a residual model's prior is another model; export that "
                           "model's own surrogate instead")  # fmt: skip
    k = len(model.metrics)
    f32 = lambda a: np.asarray(a, dtype=np.float32)  # noqa: E731
    inits, nodes = [], []

    def const(name: str, value) -> str:
        inits.append(onnx.numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(op: str, inputs: list[str], name: str, **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    f64 = lambda a: np.asarray(a, dtype=np.float64)  # noqa: E731
    x = node("Sub", ["features", const("x_mean", f64(model.x_mean))], "centred")
    x = node("Div", [x, const("x_std", f64(model.x_std))], "scaled64")
    x = node("Cast", [x], "scaled", to=TensorProto.FLOAT)
    h = node("Unsqueeze", [x, const("axis0", np.array([0], dtype=np.int64))], "members_in")
    last = len(predictor.weights) - 1
    act = "Relu" if predictor.activation == "relu" else "Tanh"
    for i, (w, b) in enumerate(zip(predictor.weights, predictor.biases, strict=True)):
        if i == last and predictor.spread_weights is not None:
            # in float64, as the JSON evaluator: exp() of the head widens any rounding
            h64 = node("Cast", [h], "spread_in", to=TensorProto.DOUBLE)
            log_spread = node("Add", [node("MatMul", [h64, const("spread_w", f64(predictor.spread_weights))],
                                           "spread_matmul"),
                                      const("spread_b", f64(predictor.spread_biases)[:, None, :])],
                              "spread_add")  # fmt: skip
        h = node("MatMul", [h, const(f"w{i}", f32(w))], f"layer{i}_matmul")
        h = node("Add", [h, const(f"b{i}", f32(b)[:, None, :])], f"layer{i}_add")
        if i < last:
            h = node(act, [h], f"layer{i}_{act.lower()}")
    members = len(predictor.weights[0])
    h = node("Cast", [h], "members_out", to=TensorProto.DOUBLE)
    z_mean = node("ReduceMean", [h, const("axes0", np.array([0], dtype=np.int64))], "z_mean",
                  keepdims=0)  # fmt: skip
    if predictor.spread_weights is not None:
        mean_log = node("ReduceMean", [log_spread, "axes0"], "log_spread", keepdims=0)
        capped = node("Min", [mean_log, const("spread_cap", f64(SPREAD_CAP))], "log_spread_capped")
        z_std = node("Exp", [capped], "z_std")
    elif members > 1:
        diff = node("Sub", [h, z_mean], "member_diff")
        sq = node("Mul", [diff, diff], "member_sq")
        ss = node("ReduceSum", [sq, "axes0"], "member_ss", keepdims=0)
        var = node("Div", [ss, const("ddof", f64(members - 1))], "member_var")
        z_std = node("Sqrt", [var], "z_std")
    else:
        z_std = node("Mul", [z_mean, const("zero", f64(0.0))], "z_std")
    t_mean = node("Add", [node("Mul", [z_mean, const("y_std", f64(model.y_std))], "t_scaled"),
                          const("y_mean", f64(model.y_mean))], "t_mean")  # fmt: skip
    t_std = node("Mul", [node("Max", [z_std, const("floor", f64(STD_FLOOR))], "z_std_floor"),
                         "y_std"], "t_std")  # fmt: skip
    starts, ends = const("cols0", np.array([0], np.int64)), const("colsk", np.array([k], np.int64))
    axis1 = const("axis1", np.array([1], np.int64))
    t_k = node("Slice", [t_mean, starts, ends, axis1], "t_metrics")
    s_k = node("Slice", [t_std, starts, ends, axis1], "t_metrics_std")
    half = node("Mul", [s_k, const("interval_scale", f64(model.interval_scale))], "half_width")
    is_log = const("is_log", np.array([t == "log" for t in model.transforms], dtype=bool))
    outputs = []
    for name, t in (("mean", t_k), ("lower", node("Sub", [t_k, half], "t_lower")),
                    ("upper", node("Add", [t_k, half], "t_upper"))):  # fmt: skip
        node("Where", [is_log, node("Exp", [t], f"{name}_exp"), t], name)
        outputs.append(helper.make_tensor_value_info(name, TensorProto.DOUBLE, ["n", k]))
    if model.learns_feasibility:
        flag = node("Slice", [t_mean, ends, const("colsk1", np.array([k + 1], np.int64)), axis1],
                    "t_feasible")  # fmt: skip
        over = node("Greater", [flag, const("half", f64(0.5))], "feasible_bool")
        node("Cast", [over], "feasible", to=TensorProto.DOUBLE)
        outputs.append(helper.make_tensor_value_info("feasible", TensorProto.DOUBLE, ["n", 1]))
    graph = helper.make_graph(
        nodes, f"archgym_surrogate_{model.card.get('env_id', 'model')}",
        [helper.make_tensor_value_info("features", TensorProto.DOUBLE, ["n", len(model.x_mean)])],
        outputs, initializer=inits,
    )  # fmt: skip
    doc = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                            producer_name="archgym_py")  # fmt: skip
    doc.doc_string = (f"metrics: {', '.join(model.metric_names)}; features: "
                      f"{', '.join(model.feature_names)}")  # fmt: skip
    onnx.checker.check_model(doc)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, doc.SerializeToString())
    return path
