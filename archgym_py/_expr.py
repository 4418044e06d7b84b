"""A tiny, safe evaluator for constraint expressions over numpy arrays.

Constraints are declared in YAML as strings such as ``"pe_rows * pe_cols <= 4096"``. They are
parsed with :mod:`ast` and only arithmetic, comparisons, boolean operators and a few whitelisted
functions are allowed, so a spec file can never run arbitrary code.
"""

from __future__ import annotations

import ast
import functools
import operator
from collections.abc import Callable, Mapping
from typing import Any

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
        # Checked above: the tree holds only whitelisted nodes; it becomes nested closures once,
        # so an evaluation is a few Python calls per node and no dispatch (still no eval()).
        self._fn = _compile(self._tree)
        unknown = self.names - set(names)
        if unknown:
            from ._errors import unknown_name

            raise SpecError(unknown_name("name in expression", sorted(unknown)[0], names, where))

    def __call__(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        return self._fn(values)

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


def _compile(node: ast.AST) -> Callable[[Mapping[str, np.ndarray]], Any]:
    """A function of the named values computing ``node`` (whitelisted nodes only)."""
    if isinstance(node, ast.Constant):
        value = node.value
        return lambda values: value
    if isinstance(node, ast.Name):
        name = node.id
        return lambda values: values[name]
    if isinstance(node, ast.BinOp):
        op, left, right = _BINOPS[type(node.op)], _compile(node.left), _compile(node.right)
        return lambda values: op(left(values), right(values))
    if isinstance(node, ast.UnaryOp):
        return _compile_unary(node)
    if isinstance(node, ast.BoolOp):
        parts = [_compile(v) for v in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        return lambda values: functools.reduce(combine, (p(values) for p in parts))
    if isinstance(node, ast.Compare):
        return _compile_compare(node)
    if isinstance(node, ast.Call):
        fn, args = _FUNCS[node.func.id], [_compile(a) for a in node.args]
        return lambda values: fn(*[a(values) for a in args])
    raise SpecError(f"unsupported expression node {type(node).__name__}")  # pragma: no cover


def _compile_unary(node: ast.UnaryOp) -> Callable[[Mapping[str, np.ndarray]], Any]:
    operand = _compile(node.operand)
    if isinstance(node.op, ast.Not):
        return lambda values: np.logical_not(operand(values))
    if isinstance(node.op, ast.USub):
        return lambda values: -operand(values)
    return operand


def _compile_compare(node: ast.Compare) -> Callable[[Mapping[str, np.ndarray]], Any]:
    """``a < b`` or a chain ``a < b <= c`` (each link on the arrays, combined with and)."""
    first = _compile(node.left)
    rest = [
        (_CMPOPS[type(op)], _compile(c)) for op, c in zip(node.ops, node.comparators, strict=True)
    ]
    if len(rest) == 1:
        op, right = rest[0]
        return lambda values: op(first(values), right(values))

    def chain(values):
        left, out = first(values), True
        for op, right in rest:
            value = right(values)
            out = np.logical_and(out, op(left, value))
            left = value
        return out

    return chain
