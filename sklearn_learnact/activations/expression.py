"""Fixed activations written as expressions of ``x`` over a small grammar.

``Expression("max(tanh(x), x * sigmoid(x))")`` is a fixed (non-learned)
activation built from the unary and binary operators of :data:`UNARY` and
:data:`BINARY`, the variable ``x`` and numbers. Operators are written as
function calls; ``+ - * /`` (and ``**`` for ``pow``) are accepted as infix
operators. The text is parsed with :mod:`ast` and every node is checked
against the grammar: nothing is ever evaluated as Python, so an expression
can only compute what the grammar allows.

Every expression has one canonical written form (:func:`canonical_expression`):
``identity`` and double negations are dropped, ``zero``/``one`` become the
numbers 0 and 1,
aliases become their canonical names, additions, subtractions,
multiplications and divisions are written infix with the fewest parentheses,
everything else as calls. The canonical form parses back to the same
expression.

This is the search space of the surrogate search (Bingham & Miikkulainen, "Efficient
Activation Function Optimization through Surrogate Modeling", 2023), whose
schemas ``unary(unary(x))`` and ``binary(unary(x), unary(x))`` enumerate a few
thousand distinct functions (:mod:`sklearn_learnact.surrogate`).
"""

import ast
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from . import _onnx
from ._registry import activation_cost, register_activation

__all__ = [
    "BINARY",
    "GRAMMAR",
    "UNARY",
    "Expression",
    "apply_operator",
    "canonical_expression",
    "evaluate_expression",
    "format_expression",
    "parse_expression",
]

#: Smallest magnitude of a denominator in the safe division (and ``reciprocal``).
DIV_EPS = 1e-6
#: Smallest base magnitude in the safe ``pow``; its exponent is capped at
#: :data:`POW_MAX_LOG`, so ``pow`` stays below ``exp(POW_MAX_LOG)`` (about 1e13).
POW_EPS = 1e-6
POW_MAX_LOG = 30.0
#: Longest expression text accepted, as given and in its canonical form (which
#: the library writes, e.g. in a saved model, and parses again when it reads
#: it back): guards the parser against huge inputs.
MAX_LENGTH = 2000
#: Deepest nesting of operators accepted (the parser, the formatter and the
#: evaluation recurse once per level).
MAX_DEPTH = 100


def _safe_div(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # a / b, and for |b| < eps the line a * b / eps^2 that meets it at |b| = eps:
    # finite and continuous everywhere, with finite gradients (both branches of
    # the where are finite, so no 0 * inf in the backward).
    small = b.abs() < DIV_EPS
    safe_b = torch.where(small, torch.ones_like(b), b)
    return torch.where(small, a * b / DIV_EPS**2, a / safe_b)


def _safe_pow(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # |a| ** b as exp(b log|a|), |a| floored and the exponent capped: finite.
    log_a = torch.log(a.abs().clamp_min(POW_EPS))
    return torch.exp(torch.clamp(b * log_a, max=POW_MAX_LOG))


@dataclass(frozen=True)
class _Op:
    """One operator: its torch function, text and cost (multiply-adds)."""

    fn: Callable
    doc: str
    #: a registry name whose cost it has (see :func:`_cost`), or a number
    cost: str | float


#: Unary operators by canonical name (``zero`` and ``one`` ignore their input).
UNARY: dict[str, _Op] = {
    "zero": _Op(torch.zeros_like, "0", 0.0),
    "one": _Op(torch.ones_like, "1", 0.0),
    "identity": _Op(lambda a: a, "a", 0.0),
    "negative": _Op(torch.neg, "-a", 1.0),
    "abs": _Op(torch.abs, "|a|", 1.0),
    "square": _Op(torch.square, "a^2", 1.0),
    "exp": _Op(torch.exp, "e^a", "tanh"),
    "reciprocal": _Op(lambda a: _safe_div(torch.ones_like(a), a), "1 / a (safe)", 4.0),
    "erf": _Op(torch.erf, "erf(a)", "tanh"),
    "arcsinh": _Op(torch.asinh, "arcsinh(a)", "tanh"),
    "arctan": _Op(torch.atan, "arctan(a)", "tanh"),
    "tanh": _Op(torch.tanh, "tanh(a)", "tanh"),
    "sigmoid": _Op(torch.sigmoid, "1 / (1 + e^-a)", "sigmoid"),
    "log_sigmoid": _Op(F.logsigmoid, "log(sigmoid(a))", "softplus"),
    "relu": _Op(F.relu, "max(a, 0)", "relu"),
    "elu": _Op(F.elu, "ELU(a)", "elu"),
    "selu": _Op(F.selu, "SELU(a)", "selu"),
    "swish": _Op(F.silu, "a * sigmoid(a)", "silu"),
    "softplus": _Op(F.softplus, "log(1 + e^a)", "softplus"),
    "softsign": _Op(F.softsign, "a / (1 + |a|)", "softsign"),
    "hard_sigmoid": _Op(F.hardsigmoid, "clamp(a / 6 + 1/2, 0, 1)", 3.0),
    "gelu": _Op(F.gelu, "a * Phi(a)", "gelu"),
    "sin": _Op(torch.sin, "sin(a)", "sin"),
    "cos": _Op(torch.cos, "cos(a)", "sin"),
}

#: Binary operators by canonical name.
BINARY: dict[str, _Op] = {
    "add": _Op(torch.add, "a + b", 1.0),
    "sub": _Op(torch.sub, "a - b", 1.0),
    "mul": _Op(torch.mul, "a * b", 1.0),
    "div": _Op(_safe_div, "a / b (safe)", 4.0),
    "max": _Op(torch.maximum, "max(a, b)", 1.0),
    "min": _Op(torch.minimum, "min(a, b)", 1.0),
    "pow": _Op(_safe_pow, "|a| ** b (safe)", 25.0),
}

#: Other accepted spellings of operator names.
ALIASES = {
    "silu": "swish",
    "asinh": "arcsinh",
    "atan": "arctan",
    "neg": "negative",
    "logsigmoid": "log_sigmoid",
    "hardsigmoid": "hard_sigmoid",
    "maximum": "max",
    "minimum": "min",
}

_INFIX = {"add": ("+", 1), "sub": ("-", 1), "mul": ("*", 2), "div": ("/", 2)}
_AST_BINOPS = {
    ast.Add: "add",
    ast.Sub: "sub",
    ast.Mult: "mul",
    ast.Div: "div",
    ast.Pow: "pow",
}

#: The grammar, as the error messages show it.
GRAMMAR = (
    "An expression of x built from\n"
    "  unary operators, written f(a): " + ", ".join(UNARY) + "\n"
    "  binary operators, written f(a, b): " + ", ".join(BINARY) + "\n"
    "  infix a + b, a - b, a * b, a / b (safe division), a ** b (safe pow), "
    "-a, parentheses, numbers like 0.5, and the variable x\n"
    "  aliases: " + ", ".join(f"{k}={v}" for k, v in ALIASES.items()) + "\n"
    "e.g. 'max(tanh(x), x * sigmoid(x))'."
)

# A parsed expression is a tree of tuples: ("x",), ("num", value) or
# (operator, child, ...), operator a canonical key of UNARY or BINARY.
Tree = tuple


def _error(text: str, why: str) -> ValueError:
    return ValueError(f"Invalid activation expression {text!r}: {why}.\n{GRAMMAR}")


def _num(value: float) -> Tree:
    return ("num", float(value) + 0.0)  # + 0.0: no negative zero


def _build(node: ast.AST, text: str) -> Tree:
    """Check one ast node against the grammar and build its tree."""
    if isinstance(node, ast.Name):
        if node.id != "x":
            raise _error(text, f"unknown name {node.id!r} (the variable is x)")
        return ("x",)
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _error(text, f"{value!r} is not a number")
        try:
            finite = math.isfinite(value)
        except OverflowError:  # an int too large for a float
            finite = False
        if not finite:
            raise _error(text, f"the number {value!r} is not finite")
        return _num(value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        child = _build(node.operand, text)
        if isinstance(node.op, ast.UAdd):
            return child
        return _apply("negative", [child])
    if isinstance(node, ast.BinOp) and type(node.op) in _AST_BINOPS:
        return _apply(
            _AST_BINOPS[type(node.op)],
            [_build(node.left, text), _build(node.right, text)],
        )
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise _error(text, "only operators of the grammar can be called")
        name = ALIASES.get(node.func.id, node.func.id)
        if name not in UNARY and name not in BINARY:
            raise _error(text, f"unknown operator {node.func.id!r}")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise _error(text, f"{name}() takes plain positional arguments")
        arity = 1 if name in UNARY else 2
        if len(node.args) != arity:
            raise _error(
                text,
                f"{name}() takes {arity} argument{'s' * (arity > 1)}, "
                f"got {len(node.args)}",
            )
        return _apply(name, [_build(a, text) for a in node.args])
    kind = type(node).__name__
    raise _error(text, f"{kind} ({ast.unparse(node)!r}) is not part of the grammar")


def _apply(name: str, children: list[Tree]) -> Tree:
    """An operator node, in canonical form."""
    if name == "identity":
        return children[0]
    if name in ("zero", "one"):
        return _num(name == "one")
    if name == "negative" and children[0][0] == "num":
        return _num(-children[0][1])
    if name == "negative" and children[0][0] == "negative":
        return children[0][1]  # -(-a) is a, exactly
    return (name, *children)


def _parse(text: str) -> Tree:
    if not isinstance(text, str):
        raise ValueError(
            f"An activation expression must be a string, got {type(text).__name__} "
            f"{text!r}.\n{GRAMMAR}"
        )
    if not text.strip():
        raise _error(text, "it is empty")
    if len(text) > MAX_LENGTH:
        raise _error(text[:40] + "...", f"longer than {MAX_LENGTH} characters")
    try:
        body = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise _error(text, f"it does not parse ({exc.msg})") from None
    except ValueError as exc:  # e.g. a null byte
        raise _error(text, f"it does not parse ({exc})") from None
    try:
        tree = _build(body, text)
    except RecursionError:
        raise _error(_shown(text), _too_deep()) from None
    _check_size(tree, text)
    return tree


def _shown(text: str) -> str:
    return text if len(text) <= 60 else text[:40] + "..."


def _too_deep(levels: int | None = None) -> str:
    found = "" if levels is None else f"{levels} levels, "
    return f"it is nested too deeply ({found}at most {MAX_DEPTH})"


def _depth(tree: Tree) -> int:
    """Levels of ``tree`` (``x`` and numbers are 1), without recursion."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if node[0] not in ("x", "num"):
            stack.extend((child, level + 1) for child in node[1:])
    return deepest


def _check_size(tree: Tree, text: str) -> None:
    """The limits hold for the canonical form too, which is what the library
    writes and parses again: whatever is accepted reads back."""
    depth = _depth(tree)
    if depth > MAX_DEPTH:
        raise _error(_shown(text), _too_deep(depth))
    length = len(_format(tree)[0])
    if length > MAX_LENGTH:
        raise _error(
            _shown(text),
            f"its canonical form (the text a model stores) is {length} characters, "
            f"more than {MAX_LENGTH}; write it with fewer terms",
        )


def _number(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _format(tree: Tree) -> tuple[str, int]:
    """Canonical text of ``tree`` and its precedence (1 +-, 2 */, 3 unary -, 4 atom)."""
    kind = tree[0]
    if kind == "x":
        return "x", 4
    if kind == "num":
        text = _number(tree[1])
        return text, 3 if text.startswith("-") else 4
    if kind == "negative":
        return "-" + _wrap(tree[1], 4), 3
    if kind in _INFIX:
        symbol, level = _INFIX[kind]
        left, right = _wrap(tree[1], level), _wrap(tree[2], level + 1)
        return f"{left} {symbol} {right}", level
    args = ", ".join(_format(child)[0] for child in tree[1:])
    return f"{kind}({args})", 4


def _wrap(tree: Tree, level: int) -> str:
    text, own = _format(tree)
    return text if own >= level else f"({text})"


def _evaluate(tree: Tree, x: torch.Tensor) -> torch.Tensor:
    kind = tree[0]
    if kind == "x":
        return x
    if kind == "num":
        return x.new_full((), tree[1])
    args = [_evaluate(child, x) for child in tree[1:]]
    if len(args) == 1:
        return UNARY[kind].fn(args[0])
    return BINARY[kind].fn(*args)


def _madds(tree: Tree, cost_of: Callable[[str], float]) -> float:
    kind = tree[0]
    if kind in ("x", "num"):
        return 0.0
    cost = (UNARY.get(kind) or BINARY[kind]).cost
    own = cost_of(cost) if isinstance(cost, str) else cost
    return own + sum(_madds(child, cost_of) for child in tree[1:])


def canonical_expression(expr: str) -> str:
    """The canonical written form of an activation expression.

    Parameters
    ----------
    expr : str
        An expression of ``x`` over the grammar (:data:`GRAMMAR`).

    Returns
    -------
    canonical : str
        The same function written canonically: ``identity`` and ``-(-a)``
        dropped, ``zero`` and ``one`` as numbers, aliases resolved, ``+ - * /``
        infix with the fewest parentheses. It parses back to itself.

    Raises
    ------
    ValueError
        If ``expr`` is not in the grammar, or it or its canonical form is
        longer than :data:`MAX_LENGTH` or nested deeper than
        :data:`MAX_DEPTH`; the message lists the grammar.

    Examples
    --------
    >>> from sklearn_learnact.activations.expression import canonical_expression
    >>> canonical_expression("maximum( tanh(identity(x)), mul(x, silu(x)) )")
    'max(tanh(x), x * swish(x))'
    >>> canonical_expression("add(x, mul(one(x), sub(x, x)))")
    'x + 1 * (x - x)'
    """
    return _format(_parse(expr))[0]


def parse_expression(text: str) -> Tree:
    """Parse an expression into its canonical tree (as :attr:`Expression.tree`).

    Parameters
    ----------
    text : str
        An expression of ``x`` over the grammar (:data:`GRAMMAR`).

    Returns
    -------
    tree : tuple
        Nested tuples: ``("x",)``, ``("num", value)`` or
        ``(operator, *children)``, ``operator`` a canonical key of
        :data:`UNARY` or :data:`BINARY`.

    Raises
    ------
    ValueError
        If ``text`` is not in the grammar, or it or its canonical form is
        longer than :data:`MAX_LENGTH` or nested deeper than
        :data:`MAX_DEPTH`; the message lists the grammar.

    Examples
    --------
    >>> from sklearn_learnact.activations.expression import parse_expression
    >>> parse_expression("maximum(x, identity(0.5))")
    ('max', ('x',), ('num', 0.5))
    """
    return _parse(text)


def apply_operator(name: str, children: Sequence[Tree]) -> Tree:
    """The tree of operator ``name`` applied to ``children``, in canonical form.

    Parameters
    ----------
    name : str
        A canonical key of :data:`UNARY` or :data:`BINARY`.
    children : sequence of tree
        One tree (unary) or two (binary), e.g. from :func:`parse_expression`.

    Returns
    -------
    tree : tuple
        ``identity`` returns its child, ``zero`` and ``one`` are numbers and
        ``-(-a)`` is ``a``, as in :func:`canonical_expression`.

    Examples
    --------
    >>> from sklearn_learnact.activations.expression import apply_operator
    >>> apply_operator("tanh", [("x",)])
    ('tanh', ('x',))
    >>> apply_operator("identity", [("x",)])
    ('x',)
    """
    return _apply(name, list(children))


def format_expression(tree: Tree) -> str:
    """The canonical text of an expression tree (:func:`canonical_expression`).

    Parameters
    ----------
    tree : tuple
        From :func:`parse_expression` or :func:`apply_operator`.

    Returns
    -------
    text : str
        It parses back to ``tree``.

    Examples
    --------
    >>> from sklearn_learnact.activations.expression import format_expression
    >>> format_expression(("mul", ("x",), ("sigmoid", ("x",))))
    'x * sigmoid(x)'
    """
    depth = _depth(tree)
    if depth > MAX_DEPTH:
        raise ValueError(f"Cannot format the expression tree: {_too_deep(depth)}.")
    return _format(tree)[0]


def evaluate_expression(tree: Tree, x: torch.Tensor) -> torch.Tensor:
    """An expression tree's values at ``x``.

    Parameters
    ----------
    tree : tuple
        From :func:`parse_expression` or :func:`apply_operator`.
    x : torch.Tensor

    Returns
    -------
    values : torch.Tensor
        The shape of ``x``, or a 0-d tensor for a constant expression
        (:class:`Expression` broadcasts it to the input's shape).

    Examples
    --------
    >>> import torch
    >>> from sklearn_learnact.activations.expression import evaluate_expression
    >>> evaluate_expression(("relu", ("x",)), torch.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """
    return _evaluate(tree, x)


class Expression(nn.Module):
    r"""A fixed activation given by an expression of ``x`` (registry ``"expr"``).

    Parameters
    ----------
    expr : str
        The expression, e.g. ``"max(tanh(x), x * sigmoid(x))"``; see
        :data:`GRAMMAR`. It is stored in its canonical form.

    Attributes
    ----------
    expr : str
        The canonical expression.

    Notes
    -----
    The division is safe: ``a / b`` is ``a * b / 1e-6**2`` where
    ``|b| < 1e-6`` (continuous, finite, finite gradients); ``pow(a, b)`` is
    ``|a| ** b`` with ``|a|`` floored at 1e-6 and the result capped at
    ``e**30``. Other operators can still overflow on large inputs
    (``exp(exp(x))``); such a network diverges in training like any other.

    The module has no parameters and works in any floating dtype (the
    compressor evaluates activations in float64). It pickles as its
    expression text and is parsed again when unpickled.

    Shape:
        - Input: :math:`(*)`, any shape.
        - Output: :math:`(*)`, same shape as the input.

    Examples
    --------
    >>> import torch
    >>> from sklearn_learnact.activations import Expression, get_activation
    >>> act = get_activation("expr", expr="max(tanh(x), x*sigmoid(x))")
    >>> act
    Expression(expr='max(tanh(x), x * sigmoid(x))')
    >>> act(torch.tensor([-1.0, 0.0, 2.0]))
    tensor([-0.2689,  0.0000,  1.7616])
    >>> Expression("1")(torch.zeros(2))
    tensor([1., 1.])
    """

    def __init__(self, expr: str) -> None:
        super().__init__()
        self._tree = _parse(expr)
        self.expr = _format(self._tree)[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = _evaluate(self._tree, x)
        if out.shape != x.shape:  # a constant: broadcast to the input's shape
            out = out.expand(x.shape).contiguous()
        return out

    @property
    def tree(self) -> Tree:
        """The parsed expression, for converters (e.g. the ONNX export).

        Nested tuples: ``("x",)``, ``("num", value)`` or ``(operator, *children)``
        with ``operator`` a canonical key of :data:`UNARY` or :data:`BINARY`
        (never ``identity``, ``zero`` or ``one``: the canonical form drops them).

        Examples
        --------
        >>> from sklearn_learnact.activations import Expression
        >>> Expression("max(tanh(x), 0.5 * x)").tree
        ('max', ('tanh', ('x',)), ('mul', ('num', 0.5), ('x',)))
        """
        return self._tree

    def extra_repr(self) -> str:
        return f"expr={self.expr!r}"

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["_tree"]  # the pickle holds the text only, no callables
        return state

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self._tree = _parse(self.expr)


# -- cost and ONNX converter ----------------------------------------------------
def _cost(module: Expression) -> float:
    """Multiply-adds per element: the operators' costs, summed (a
    transcendental operator without a registry twin, ``exp``, ``erf``, ...,
    costs as much as ``tanh``)."""
    return _madds(module.tree, activation_cost)


def _onnx_log_sigmoid(b, a: str) -> str:
    # torch's stable form: min(a, 0) - log(1 + exp(-|a|))
    tail = b.op(
        "Log", b.op("Add", b.op("Exp", b.op("Neg", b.op("Abs", a))), b.const(1.0))
    )
    return b.op("Sub", b.op("Min", a, b.const(0.0)), tail)


def _onnx_safe_div(b, a: str, d: str) -> str:
    # _safe_div: a / d, and a * d / eps^2 where |d| < eps
    small = b.op("Less", b.op("Abs", d), b.const(DIV_EPS))
    safe_d = b.op("Where", small, b.const(1.0), d)
    line = b.op("Mul", b.op("Mul", a, d), b.const(1.0 / DIV_EPS**2))
    return b.op("Where", small, line, b.op("Div", a, safe_d))


def _onnx_safe_pow(b, a: str, e: str) -> str:
    # _safe_pow: exp(min(e * log(max(|a|, eps)), cap))
    log_a = b.op("Log", b.op("Max", b.op("Abs", a), b.const(POW_EPS)))
    return b.op("Exp", b.op("Min", b.op("Mul", e, log_a), b.const(POW_MAX_LOG)))


#: ONNX subgraph of each operator, ``fn(builder, *inputs) -> output``.
_ONNX_OPS: dict[str, Callable[..., str]] = {
    "negative": lambda b, a: b.op("Neg", a),
    "abs": lambda b, a: b.op("Abs", a),
    "square": lambda b, a: b.op("Mul", a, a),
    "exp": lambda b, a: b.op("Exp", a),
    "reciprocal": lambda b, a: _onnx_safe_div(b, b.const(1.0), a),
    "erf": lambda b, a: b.op("Erf", a),
    "arcsinh": lambda b, a: b.op("Asinh", a),
    "arctan": lambda b, a: b.op("Atan", a),
    "tanh": lambda b, a: b.op("Tanh", a),
    "sigmoid": lambda b, a: b.op("Sigmoid", a),
    "log_sigmoid": _onnx_log_sigmoid,
    "relu": lambda b, a: b.op("Relu", a),
    "elu": lambda b, a: _onnx.elu(b, a, nn.ELU()),
    "selu": lambda b, a: _onnx.selu(b, a, nn.SELU()),
    "swish": lambda b, a: _onnx.silu(b, a, nn.SiLU()),
    "softplus": lambda b, a: _onnx.softplus(b, a, nn.Softplus()),
    "softsign": lambda b, a: b.op("Softsign", a),
    # torch's hardsigmoid: clamp(a / 6 + 1/2, 0, 1)
    "hard_sigmoid": lambda b, a: b.op("HardSigmoid", a, alpha=1.0 / 6.0, beta=0.5),
    "gelu": lambda b, a: _onnx.gelu(b, a, nn.GELU()),
    "sin": lambda b, a: b.op("Sin", a),
    "cos": lambda b, a: b.op("Cos", a),
    "add": lambda b, a, c: b.op("Add", a, c),
    "sub": lambda b, a, c: b.op("Sub", a, c),
    "mul": lambda b, a, c: b.op("Mul", a, c),
    "div": _onnx_safe_div,
    "max": lambda b, a, c: b.op("Max", a, c),
    "min": lambda b, a, c: b.op("Min", a, c),
    "pow": _onnx_safe_pow,
}


def _uses_x(tree: Tree) -> bool:
    return tree[0] == "x" or any(_uses_x(c) for c in tree[1:] if isinstance(c, tuple))


def _onnx_expression(b, x: str, module: Expression) -> str:
    def build(tree) -> str:
        kind = tree[0]
        if kind == "x":
            return x
        if kind == "num":
            return b.const(tree[1])
        return _ONNX_OPS[kind](b, *(build(child) for child in tree[1:]))

    out = build(module.tree)
    if not _uses_x(module.tree):  # a constant: broadcast to the input's shape
        out = b.op("Expand", out, b.op("Shape", x))
    return out


register_activation(
    "expr",
    Expression,
    learnable=False,
    summary="an expression of x over a small grammar, e.g. "
    "expr='max(tanh(x), x * sigmoid(x))'",
    cost=_cost,
    onnx=_onnx_expression,
    _builtin=True,
)
