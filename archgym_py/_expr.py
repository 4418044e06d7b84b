"""A tiny, safe evaluator for constraint expressions over numpy arrays.

Constraints are declared in YAML as strings such as ``"pe_rows * pe_cols <= 4096"``. They are
parsed with :mod:`ast` and only arithmetic, comparisons, boolean operators and a few whitelisted
functions are allowed, so a spec file can never run arbitrary code.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Mapping

import numpy as np

from ._errors import SpecError

_BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_CMPOPS = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_FUNCS = {"log2": np.log2, "min": np.minimum, "max": np.maximum, "abs": np.abs}


class Expression:
    """A parsed, vectorised boolean/arithmetic expression over named arrays."""

    def __init__(self, text: str, names: set[str] | frozenset[str], *, where: str = "expression"):
        self.text = text
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError as exc:
            raise SpecError(f"{where}: cannot parse {text!r}: {exc.msg}") from exc
        self._tree = tree.body
        self.names = frozenset(_names_in(self._tree, where=where, text=text))
        unknown = self.names - set(names)
        if unknown:
            from ._errors import unknown_name

            raise SpecError(unknown_name("name in expression", sorted(unknown)[0], names, where))

    def __call__(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        return _eval(self._tree, values)

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"


def _names_in(node: ast.AST, *, where: str, text: str) -> set[str]:
    allowed = (
        ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Name, ast.Load,
        ast.Constant, ast.Call, ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd,
        *_BINOPS, *_CMPOPS,
    )  # fmt: skip
    names: set[str] = set()
    for sub in ast.walk(node):
        if not isinstance(sub, allowed):
            raise SpecError(f"{where}: {type(sub).__name__} is not allowed in {text!r}")
        if isinstance(sub, ast.Call):
            if not isinstance(sub.func, ast.Name) or sub.func.id not in _FUNCS or sub.keywords:
                raise SpecError(
                    f"{where}: only the functions {sorted(_FUNCS)} may be called in {text!r}"
                )
        elif isinstance(sub, ast.Name) and sub.id not in _FUNCS:
            names.add(sub.id)
        elif isinstance(sub, ast.Constant) and not isinstance(sub.value, (int, float, str)):
            raise SpecError(f"{where}: constant {sub.value!r} is not allowed in {text!r}")
    return names


def _eval(node: ast.AST, values: Mapping[str, np.ndarray]):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.BinOp):
        return _BINOPS[type(node.op)](_eval(node.left, values), _eval(node.right, values))
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, values)
        if isinstance(node.op, ast.Not):
            return np.logical_not(operand)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BoolOp):
        parts = [_eval(v, values) for v in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = parts[0]
        for part in parts[1:]:
            out = combine(out, part)
        return out
    if isinstance(node, ast.Compare):
        left = _eval(node.left, values)
        out = True
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(comparator, values)
            out = np.logical_and(out, _CMPOPS[type(op)](left, right))
            left = right
        return out
    if isinstance(node, ast.Call):
        return _FUNCS[node.func.id](*[_eval(a, values) for a in node.args])
    raise SpecError(f"unsupported expression node {type(node).__name__}")  # pragma: no cover
