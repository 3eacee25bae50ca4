"""The candidate space: expressions from schemas, distinct outputs.

A *schema* such as ``"binary(unary(x), unary(x))"`` is a pattern whose holes
``unary`` and ``binary`` are filled with every operator of the grammar
(:mod:`sklearn_learnact.activations.expression`). Every filled-in expression
is evaluated in float32 on :data:`N_POINTS` fixed N(0, 1) samples clipped to
[-5, 5]; expressions with a non-finite or constant output are dropped, and of
each group of identical outputs one representative is kept: the shortest
canonical text (a baseline such as ``"relu(x)"`` wins its group).
"""

import ast
import itertools
import math
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch

from ..activations.expression import (
    BINARY,
    GRAMMAR,
    UNARY,
    apply_operator,
    canonical_expression,
    evaluate_expression,
    format_expression,
    parse_expression,
)

__all__ = [
    "BASELINES",
    "DEFAULT_BINARY",
    "DEFAULT_SCHEMAS",
    "DEFAULT_UNARY",
    "ActivationSpace",
    "build_space",
    "sample_points",
]

#: The baseline activations a search evaluates first (the published method's eight).
BASELINES = (
    "elu(x)",
    "relu(x)",
    "selu(x)",
    "sigmoid(x)",
    "softplus(x)",
    "softsign(x)",
    "swish(x)",
    "tanh(x)",
)
#: The schemas of the paper's space.
DEFAULT_SCHEMAS = ("unary(unary(x))", "binary(unary(x), unary(x))")
#: Unary operators of the default space: the whole grammar.
DEFAULT_UNARY = tuple(UNARY)
#: Binary operators of the default space: the whole grammar.
DEFAULT_BINARY = tuple(BINARY)
#: Number of sample points of the output feature.
N_POINTS = 1000
#: Most expressions a space may enumerate before filtering.
MAX_ENUMERATED = 200_000


@contextmanager
def one_thread():
    """Torch on one thread inside the block, then as it was.

    For many small tensor ops: on a busy machine a second thread mostly spins
    waiting for the first (building the default space takes 50 s instead of
    1 s on two shared cores).
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def sample_points(n_points: int = N_POINTS, seed: int = 0) -> np.ndarray:
    """The fixed inputs of the output feature: N(0, 1) clipped to [-5, 5].

    Parameters
    ----------
    n_points : int, default=1000
    seed : int, default=0

    Returns
    -------
    points : ndarray of shape (n_points,), float32, sorted

    Examples
    --------
    >>> from sklearn_learnact.surrogate import sample_points
    >>> p = sample_points()
    >>> p.shape, p.dtype, bool(p.min() >= -5 and p.max() <= 5)
    ((1000,), dtype('float32'), True)
    """
    rng = np.random.default_rng(seed)
    return np.sort(np.clip(rng.standard_normal(n_points), -5, 5)).astype(np.float32)


@dataclass(frozen=True)
class ActivationSpace:
    """Distinct candidate activations and their output features.

    Attributes
    ----------
    expressions : tuple of str
        Canonical expressions, one per distinct function.
    outputs : ndarray of shape (n_candidates, n_points), float32
        Each function on :attr:`points` (the output feature).
    points : ndarray of shape (n_points,), float32
    counts : dict
        ``enumerated`` (schema instances), ``distinct_text`` (after the
        canonical form), ``non_finite``, ``constant``, ``duplicate`` (same
        outputs as a kept one) and ``distinct`` (kept).
    """

    expressions: tuple[str, ...]
    outputs: np.ndarray
    points: np.ndarray
    counts: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.expressions)

    def index(self, expr: str) -> int:
        """Position of ``expr`` (any written form) in the space.

        Raises
        ------
        KeyError
            If the function is not in the space.
        """
        canonical = canonical_expression(expr)
        try:
            return self.expressions.index(canonical)
        except ValueError:
            raise KeyError(f"{canonical!r} is not in the candidate space.") from None

    def summary(self) -> str:
        """One line with the counts."""
        c = self.counts
        return (
            f"{c['enumerated']} expressions enumerated, {c['distinct_text']} distinct "
            f"texts; dropped {c['non_finite']} non-finite, {c['constant']} constant "
            f"and {c['duplicate']} duplicate outputs; {c['distinct']} distinct "
            "functions."
        )


def _schema_tree(schema: str):
    """Parse a schema: holes ``unary(.)``, ``binary(., .)``, leaves ``x``."""
    hint = (
        f"Invalid schema {schema!r}: a schema is built from unary(S), "
        "binary(S, S) and x, e.g. 'binary(unary(x), unary(x))'."
    )
    try:
        body = ast.parse(schema, mode="eval").body
    except SyntaxError:
        raise ValueError(hint) from None

    def build(node):
        if isinstance(node, ast.Name) and node.id == "x":
            return ("x",)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("unary", "binary")
            and not node.keywords
            and len(node.args) == (1 if node.func.id == "unary" else 2)
        ):
            return (node.func.id, *(build(a) for a in node.args))
        raise ValueError(hint)

    return build(body)


def _fill(schema_tree, unary: Sequence[str], binary: Sequence[str]) -> Iterable:
    """Every expression tree that fills the schema's holes."""
    kind = schema_tree[0]
    if kind == "x":
        yield ("x",)
        return
    ops = unary if kind == "unary" else binary
    children = [list(_fill(child, unary, binary)) for child in schema_tree[1:]]
    for op in ops:
        for args in itertools.product(*children):
            yield apply_operator(op, args)


def _count(schema_tree, n_unary: int, n_binary: int) -> int:
    kind = schema_tree[0]
    if kind == "x":
        return 1
    n = n_unary if kind == "unary" else n_binary
    return n * math.prod(_count(c, n_unary, n_binary) for c in schema_tree[1:])


def _operators(names, table: dict, kind: str) -> tuple[str, ...]:
    if isinstance(names, str):
        names = (names,)
    names = tuple(names)
    unknown = [n for n in names if n not in table]
    if unknown:
        raise ValueError(f"Unknown {kind} operator(s) {unknown}.\n{GRAMMAR}")
    return names


def _output_key(out: np.ndarray) -> bytes:
    """Outputs equal to about 5 significant digits share a key (tiny values -> 0)."""
    a = out.astype(np.float64)
    a = np.where(np.abs(a) < 1e-6 * np.abs(a).max(), 0.0, a)
    exponent = np.floor(np.log10(np.where(a == 0, 1.0, np.abs(a))))
    mantissa = np.round(a / 10.0**exponent, 4) + 0.0
    return mantissa.tobytes() + exponent.astype(np.int16).tobytes()


def build_space(
    schemas: Sequence[str] = DEFAULT_SCHEMAS,
    unary: Sequence[str] = DEFAULT_UNARY,
    binary: Sequence[str] = DEFAULT_BINARY,
    *,
    candidates: Iterable[str] = (),
    include: Iterable[str] = BASELINES,
    n_points: int = N_POINTS,
) -> ActivationSpace:
    """Enumerate, evaluate and deduplicate a space of expression activations.

    Parameters
    ----------
    schemas : sequence of str, default=DEFAULT_SCHEMAS
        Patterns with holes ``unary(...)`` and ``binary(..., ...)``; empty
        to use ``candidates`` only.
    unary, binary : sequence of str
        Operators that fill the holes (names of
        :data:`~sklearn_learnact.activations.expression.UNARY` and
        :data:`~sklearn_learnact.activations.expression.BINARY`).
    candidates : iterable of str, default=()
        Extra expressions, e.g. hand-written ones. Unlike enumerated ones, an
        extra expression that is non-finite or constant on the sample points
        is an error.
    include : iterable of str, default=BASELINES
        Expressions always kept as their group's representative (the
        baselines); they must be finite and non-constant too.
    n_points : int, default=1000
        Sample points of the output feature.

    Returns
    -------
    space : ActivationSpace

    Raises
    ------
    ValueError
        Unknown operators or a malformed schema (the message shows the
        grammar), an invalid given expression, a given expression that is
        non-finite or constant on [-5, 5], more than 200,000 expressions to
        enumerate, or an empty space.

    Examples
    --------
    >>> from sklearn_learnact.surrogate import build_space
    >>> space = build_space(unary=("relu", "tanh", "negative", "zero"),
    ...                     binary=("add", "max"), include=())
    >>> len(space), space.counts["enumerated"]
    (16, 48)
    >>> space.expressions[:3]
    ('-relu(x)', '-tanh(x)', '-x + -x')
    """
    unary = _operators(unary, UNARY, "unary")
    binary = _operators(binary, BINARY, "binary")
    if isinstance(schemas, str):
        schemas = (schemas,)
    schema_trees = [_schema_tree(s) for s in schemas]
    total = sum(_count(t, len(unary), len(binary)) for t in schema_trees)
    if total > MAX_ENUMERATED:
        raise ValueError(
            f"The schemas would enumerate {total} expressions (at most "
            f"{MAX_ENUMERATED}); use fewer operators or shallower schemas."
        )
    given = {canonical_expression(e): "given" for e in candidates}
    given.update({canonical_expression(e): "include" for e in include})
    trees: dict[str, tuple] = {}
    for tree in itertools.chain.from_iterable(
        _fill(t, unary, binary) for t in schema_trees
    ):
        trees.setdefault(format_expression(tree), tree)
    for text in given:
        trees.setdefault(text, parse_expression(text))

    points = sample_points(n_points)
    x = torch.from_numpy(points)
    counts = {"enumerated": total, "distinct_text": len(trees)}
    counts.update(non_finite=0, constant=0, duplicate=0)
    groups: dict[bytes, list[str]] = {}
    outputs: dict[str, np.ndarray] = {}
    with torch.no_grad(), one_thread():
        for text, tree in trees.items():
            out = np.broadcast_to(evaluate_expression(tree, x).numpy(), points.shape)
            problem = None
            if not np.isfinite(out).all():
                problem, counter = "is non-finite", "non_finite"
            elif out.max() - out.min() <= 1e-6 * max(1.0, float(np.abs(out).max())):
                problem, counter = "is constant", "constant"
            if problem:
                if text in given:
                    raise ValueError(
                        f"The candidate activation {text!r} {problem} on the sample "
                        "points (N(0, 1) clipped to [-5, 5]); remove it."
                    )
                counts[counter] += 1
                continue
            outputs[text] = np.array(out, dtype=np.float32)
            groups.setdefault(_output_key(out), []).append(text)

    def rank(text: str):  # the representative: a given one, then the shortest
        return (given.get(text) != "include", text not in given, len(text), text)

    kept = sorted(min(group, key=rank) for group in groups.values())
    counts["duplicate"] = len(outputs) - len(kept)
    counts["distinct"] = len(kept)
    if not kept:
        raise ValueError(
            "The candidate space is empty: every expression is non-finite or "
            f"constant on [-5, 5] (schemas {list(schemas)}, unary {list(unary)}, "
            f"binary {list(binary)}); add operators or candidates."
        )
    return ActivationSpace(
        tuple(kept), np.stack([outputs[t] for t in kept]), points, counts
    )
