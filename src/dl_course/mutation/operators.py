"""Small wrong variants of a reference, made by editing its syntax tree (libcst keeps the rest of
the file as written, so each mutant reads as a one-line diff).

Each operator looks at one kind of node and proposes replacements that fit tensor code: the
slips people make with dimensions, masks, scales, residuals, activations, gradients and
numerical stability. `mutants(source)` lists every proposal once (two that give the same code
are one mutant), each with a stable id, `operator@line` plus `#n` when one line has several.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

__all__ = ["Mutant", "mutants", "pairs", "OPERATORS"]


@dataclass(frozen=True)
class Mutant:
    id: str
    """`operator@line` (`#n` appended for the n-th of one operator on one line): stable while the
    reference's lines stay where they are; equivalence declarations name it."""
    operator: str
    line: int
    description: str
    """What changed, in a few words (e.g. "dim=-1 → dim=-2")."""
    source: str
    """The whole mutated file."""


Proposal = tuple[cst.CSTNode, cst.CSTNode, str]  # (node, replacement, description)

DIM_FUNCTIONS = {"softmax", "log_softmax", "sum", "mean", "var", "std", "max", "min", "amax", "amin",
                 "argmax", "argmin", "cumsum", "prod", "norm", "logsumexp", "all", "any", "cat", "stack",
                 "flip", "squeeze", "chunk", "split", "flatten"}
SHAPE_FUNCTIONS = {"view", "reshape", "permute", "expand", "repeat"}
ACTIVATIONS = {"tanh", "sigmoid", "relu", "gelu", "elu", "softplus", "silu"}
SOFTMAXES = {"softmax"}
NON_COMMUTATIVE = (cst.Subtract, cst.Divide, cst.MatrixMultiply, cst.FloorDivide, cst.Power)
COMPARISON_FLIPS = {cst.Equal: cst.NotEqual, cst.NotEqual: cst.Equal, cst.LessThan: cst.LessThanEqual,
                    cst.LessThanEqual: cst.LessThan, cst.GreaterThan: cst.GreaterThanEqual,
                    cst.GreaterThanEqual: cst.GreaterThan, cst.Is: cst.IsNot, cst.IsNot: cst.Is}


def _name(func: cst.BaseExpression) -> str:
    """The called name: `softmax` for torch.softmax, F.softmax and x.softmax alike."""
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return ""


def _int(node: cst.BaseExpression | None) -> int | None:
    """The value of an integer literal, negative ones included."""
    if isinstance(node, cst.Integer):
        return int(node.value)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus) and isinstance(node.expression, cst.Integer):
        return -int(node.expression.value)
    return None


def _int_node(value: int) -> cst.BaseExpression:
    if value < 0:
        return cst.UnaryOperation(operator=cst.Minus(), expression=cst.Integer(str(-value)))
    return cst.Integer(str(value))


def _shifted(value: int) -> int:
    """Another dimension or index next to `value`: -1 → -2, 0 → 1, 2 → 3."""
    return value - 1 if value < 0 else value + 1


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _is_minus_inf(node: cst.BaseExpression) -> bool:
    text = _code(node).replace(" ", "").replace('"', "'")
    return text in {"float('-inf')", "-float('inf')", "-math.inf", "-torch.inf", "-np.inf", "float('-1e9')"} or \
        bool(text.startswith("-1e") and text[3:].isdigit()) or "finfo" in text and text.endswith(".min")


# -- operators: each maps a node to its proposals ---------------------------------------------------

def dim_shift(node: cst.CSTNode) -> Iterator[Proposal]:
    """softmax/sum/mean/var/cat… over another dim; keepdim flipped; unsqueeze(k) at another k."""
    if not isinstance(node, cst.Call):
        return
    name = _name(node.func)
    for i, arg in enumerate(node.args):
        keyword = arg.keyword.value if arg.keyword else None
        positional_dim = keyword is None and (
            (name in DIM_FUNCTIONS and isinstance(node.func, cst.Attribute) and i == 0
             and not _is_module_call(node.func)) or
            (name in DIM_FUNCTIONS and i == 1) or (name in {"unsqueeze", "transpose", "swapaxes"} and i in (0, 1)
                                                   and isinstance(node.func, cst.Attribute) and not _is_module_call(node.func)))
        if keyword in {"dim", "axis"} or positional_dim or (name == "unsqueeze" and keyword is None and i == 1):
            value = _int(arg.value)
            if value is not None:
                new = _shifted(value)
                yield (arg.value, _int_node(new), f"{name}: dim {value} → {new}")
        if keyword == "keepdim" and isinstance(arg.value, cst.Name) and arg.value.value in {"True", "False"}:
            flipped = "False" if arg.value.value == "True" else "True"
            yield (arg.value, cst.Name(flipped), f"{name}: keepdim={arg.value.value} → {flipped}")


def _is_module_call(func: cst.Attribute) -> bool:
    """torch.sum(x, 1) / F.softmax(x, 1): the first argument is the tensor, not a dim."""
    return isinstance(func.value, cst.Name) and func.value.value in {"torch", "F", "nn", "functional"}


def shape_swap(node: cst.CSTNode) -> Iterator[Proposal]:
    """Two neighbouring sizes of view/reshape/permute/expand/repeat swapped."""
    if not isinstance(node, cst.Call) or _name(node.func) not in SHAPE_FUNCTIONS:
        return
    args = [a for a in node.args if a.keyword is None and not a.star]
    if len(args) == 1 and isinstance(args[0].value, (cst.Tuple, cst.List)):
        elements = args[0].value.elements
        for i in range(len(elements) - 1):
            a, b = elements[i], elements[i + 1]
            if _code(a.value) != _code(b.value):
                swapped = list(elements)
                swapped[i], swapped[i + 1] = a.with_changes(value=b.value), b.with_changes(value=a.value)
                yield (args[0].value, args[0].value.with_changes(elements=swapped),
                       f"{_name(node.func)}: sizes {i} and {i + 1} swapped")
        return
    for i in range(len(args) - 1):
        a, b = args[i], args[i + 1]
        if _code(a.value) != _code(b.value):
            new_args = list(node.args)
            ia, ib = node.args.index(a), node.args.index(b)
            new_args[ia], new_args[ib] = a.with_changes(value=b.value), b.with_changes(value=a.value)
            yield (node, node.with_changes(args=new_args), f"{_name(node.func)}: sizes {i} and {i + 1} swapped")


def transpose_dim(node: cst.CSTNode) -> Iterator[Proposal]:
    """transpose(a, b) with one of the two dims moved (swapping them would change nothing)."""
    if not isinstance(node, cst.Call) or _name(node.func) not in {"transpose", "swapaxes"}:
        return
    args = [a for a in node.args if a.keyword is None]
    for arg in args[-2:]:
        value = _int(arg.value)
        if value is not None:
            new = _shifted(value)
            yield (arg.value, _int_node(new), f"transpose: dim {value} → {new}")


def scale(node: cst.CSTNode) -> Iterator[Proposal]:
    """A scale removed (`s / sqrt(d)` → `s`) or inverted (`/` ↔ `*`)."""
    if not isinstance(node, cst.BinaryOperation) or not isinstance(node.operator, (cst.Divide, cst.Multiply)):
        return
    right = _code(node.right)
    if not any(word in right for word in ("sqrt", "scale", "** 0.5", "**0.5", "** -0.5", "**-0.5", "d_k", "math.")):
        return
    yield (node, node.left, f"the scale {_code(node.operator).strip()} {right} dropped")
    other = cst.Multiply() if isinstance(node.operator, cst.Divide) else cst.Divide()
    yield (node.operator, other.with_changes(whitespace_before=node.operator.whitespace_before,
                                             whitespace_after=node.operator.whitespace_after),
           f"scale inverted ({_code(node.operator).strip()} → {_code(other).strip()})")


def triangle(node: cst.CSTNode) -> Iterator[Proposal]:
    """tril ↔ triu, and the diagonal moved by one."""
    if not isinstance(node, cst.Call) or _name(node.func) not in {"tril", "triu"}:
        return
    name = _name(node.func)
    other = "triu" if name == "tril" else "tril"
    func = node.func
    new_func = func.with_changes(attr=cst.Name(other)) if isinstance(func, cst.Attribute) else cst.Name(other)
    yield (func, new_func, f"{name} → {other}")
    diagonal = [a for a in node.args if (a.keyword and a.keyword.value == "diagonal")]
    positional = [a for a in node.args if a.keyword is None]
    index = 1 if isinstance(func, cst.Attribute) and _is_module_call(func) else 0
    if not diagonal and len(positional) > index:
        diagonal = positional[index:index + 1]
    for arg in diagonal:
        value = _int(arg.value)
        if value is not None:
            for new in (value + 1, value - 1):
                yield (arg.value, _int_node(new), f"{name}: diagonal {value} → {new}")
    if not diagonal:
        for new in (1, -1):
            arg = cst.Arg(keyword=cst.Name("diagonal"), value=_int_node(new),
                          equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                                whitespace_after=cst.SimpleWhitespace("")))
            args = [*node.args[:-1], node.args[-1].with_changes(comma=cst.Comma(
                whitespace_after=cst.SimpleWhitespace(" ")))] if node.args else []
            yield (node, node.with_changes(args=[*args, arg]), f"{name}: diagonal 0 → {new}")


def mask_sense(node: cst.CSTNode) -> Iterator[Proposal]:
    """`~mask` → `mask`; a comparison flipped (== ↔ !=, < ↔ <=); `-inf` fill → 0."""
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.BitInvert, cst.Not)):
        yield (node, node.expression, f"{_code(node)} → {_code(node.expression)}")
    if isinstance(node, cst.Comparison) and len(node.comparisons) == 1:
        target = node.comparisons[0]
        flip = COMPARISON_FLIPS.get(type(target.operator))
        if flip is not None:
            op = flip(whitespace_before=target.operator.whitespace_before,
                      whitespace_after=target.operator.whitespace_after)
            yield (target.operator, op, f"{_code(target.operator).strip()} → {_code(op).strip()}")
    if isinstance(node, cst.Arg) and _is_minus_inf(node.value):
        yield (node.value, cst.Float("0.0"), f"{_code(node.value)} → 0.0")


def detach(node: cst.CSTNode) -> Iterator[Proposal]:
    """`.detach()` removed, or added to what is returned."""
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "detach" \
            and not node.args:
        yield (node, node.func.value, ".detach() removed")
    if isinstance(node, cst.Return) and node.value is not None:
        values = node.value.elements if isinstance(node.value, cst.Tuple) else [node.value]
        for element in values:
            expr = element.value if isinstance(element, cst.Element) else element
            if isinstance(expr, (cst.Name, cst.Call, cst.Attribute, cst.Subscript, cst.BinaryOperation)):
                wrapped = cst.Call(func=cst.Attribute(value=_parenthesised(expr), attr=cst.Name("detach")))
                yield (expr, wrapped, f"return {_code(expr)}.detach()")


def _parenthesised(expr: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(expr, (cst.BinaryOperation, cst.UnaryOperation)) and not expr.lpar:
        return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return expr


def activation(node: cst.CSTNode) -> Iterator[Proposal]:
    """sigmoid ↔ tanh; an activation dropped (`torch.tanh(x)` → `x`)."""
    if not isinstance(node, cst.Call):
        return
    name = _name(node.func)
    if name not in ACTIVATIONS:
        return
    if name in {"sigmoid", "tanh"}:
        other = "tanh" if name == "sigmoid" else "sigmoid"
        new_func = node.func.with_changes(attr=cst.Name(other)) if isinstance(node.func, cst.Attribute) \
            else cst.Name(other)
        yield (node.func, new_func, f"{name} → {other}")
    positional = [a for a in node.args if a.keyword is None]
    if isinstance(node.func, cst.Attribute) and not _is_module_call(node.func) and not positional:
        yield (node, node.func.value, f".{name}() dropped")  # x.tanh() → x
    elif len(positional) == 1:
        yield (node, positional[0].value, f"{name} dropped")


def residual(node: cst.CSTNode) -> Iterator[Proposal]:
    """`x + f(x)` → `f(x)`: a residual connection dropped (one side of a sum that is a bare name)."""
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        if isinstance(node.left, cst.Name) and not isinstance(node.right, (cst.Integer, cst.Float)):
            yield (node, node.right, f"residual {node.left.value} + … dropped")
        elif isinstance(node.right, cst.Name) and not isinstance(node.left, (cst.Integer, cst.Float)):
            yield (node, node.left, f"residual … + {node.right.value} dropped")


def swap_operands(node: cst.CSTNode) -> Iterator[Proposal]:
    """`a - b` → `b - a` (and /, @, **); the first two arguments of a call swapped."""
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, NON_COMMUTATIVE):
        if _code(node.left) != _code(node.right):
            yield (node, node.with_changes(left=node.right, right=node.left),
                   f"operands of {_code(node.operator).strip()} swapped")
    if isinstance(node, cst.Call) and _name(node.func) not in SHAPE_FUNCTIONS | {"transpose", "swapaxes", "range"}:
        positional = [a for a in node.args if a.keyword is None and not a.star]
        if len(positional) >= 2 and _code(positional[0].value) != _code(positional[1].value):
            a, b = positional[0], positional[1]
            new_args = list(node.args)
            ia, ib = node.args.index(a), node.args.index(b)
            new_args[ia], new_args[ib] = a.with_changes(value=b.value), b.with_changes(value=a.value)
            yield (node, node.with_changes(args=new_args), f"{_name(node.func) or 'call'}: first two arguments swapped")


def off_by_one(node: cst.CSTNode) -> Iterator[Proposal]:
    """An index or a slice bound moved by one (`[:, -1]` → `[:, -2]`, `[1:]` → `[2:]`)."""
    if not isinstance(node, cst.SubscriptElement):
        return
    sl = node.slice
    if isinstance(sl, cst.Index):
        value = _int(sl.value)
        if value is not None:
            new = _shifted(value)
            yield (sl.value, _int_node(new), f"index {value} → {new}")
    elif isinstance(sl, cst.Slice):
        for part in ("lower", "upper"):
            bound = getattr(sl, part)
            value = _int(bound)
            if value is not None:
                new = value + 1 if value >= 0 else value - 1
                yield (bound, _int_node(new), f"slice {part} bound {value} → {new}")


def float_literal(node: cst.CSTNode) -> Iterator[Proposal]:
    """A float constant ×10 (eps = 1e-5 → 1e-4; 0.5 → 5.0)."""
    if isinstance(node, cst.Float):
        try:
            value = float(node.value)
        except ValueError:
            return
        if value != 0.0:
            yield (node, cst.Float(repr(value * 10)), f"{node.value} → {value * 10!r}")


def naive_softmax(node: cst.CSTNode) -> Iterator[Proposal]:
    """torch.softmax(s, dim=d) → s.exp() / s.exp().sum(dim=d, keepdim=True): overflows for large s."""
    if not isinstance(node, cst.Call) or _name(node.func) not in SOFTMAXES:
        return
    positional = [a for a in node.args if a.keyword is None]
    dims = [a for a in node.args if a.keyword and a.keyword.value == "dim"]
    if isinstance(node.func, cst.Attribute) and not _is_module_call(node.func):
        tensor, dim = node.func.value, (dims[0].value if dims else positional[0].value if positional else None)
    else:
        if not positional:
            return
        tensor = positional[0].value
        dim = dims[0].value if dims else positional[1].value if len(positional) > 1 else None
    if dim is None:
        return
    text = f"(({_code(tensor)}).exp() / ({_code(tensor)}).exp().sum(dim={_code(dim)}, keepdim=True))"
    yield (node, cst.parse_expression(text), "softmax written as exp / sum")


OPERATORS: dict[str, Callable[[cst.CSTNode], Iterator[Proposal]]] = {
    "dim": dim_shift, "shape": shape_swap, "transpose": transpose_dim, "scale": scale,
    "triangle": triangle, "mask": mask_sense, "detach": detach, "activation": activation,
    "residual": residual, "swap": swap_operands, "off_by_one": off_by_one, "float": float_literal,
    "softmax": naive_softmax,
}


class _Collector(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, int, Proposal]] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            return False
        if isinstance(node, (cst.SimpleStatementLine,)) and len(node.body) == 1 and \
                isinstance(node.body[0], cst.Expr) and isinstance(node.body[0].value, (cst.SimpleString,
                                                                                      cst.ConcatenatedString)):
            return False  # a docstring
        if isinstance(node, cst.Param) or isinstance(node, cst.Decorator):
            return False  # defaults and decorators are the exercise's API, not its computation
        line = self.get_metadata(PositionProvider, node).start.line
        for name, operator in OPERATORS.items():
            for proposal in operator(node):
                self.found.append((name, line, proposal))
        return True


def mutants(source: str, operators: set[str] | None = None) -> list[Mutant]:
    """Every mutant of `source`, in the order of the file; code equal to `source` or to an earlier
    mutant, or that does not parse, is left out."""
    module = cst.parse_module(source)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    collector = _Collector()
    wrapper.visit(collector)
    seen = {source}
    made: list[Mutant] = []
    per_line: dict[tuple[str, int], int] = {}
    for name, line, (node, replacement, description) in collector.found:
        if operators is not None and name not in operators:
            continue
        try:
            code = module.deep_replace(node, replacement).code
            compile(code, "<mutant>", "exec")
        except Exception:  # noqa: BLE001 - a proposal that makes no valid Python is no mutant
            continue
        if code in seen:
            continue
        seen.add(code)
        n = per_line[(name, line)] = per_line.get((name, line), 0) + 1
        made.append(Mutant(f"{name}@{line}" + (f"#{n}" if n > 1 else ""), name, line, description, code))
    return made


def pairs(source: str, singles: list[Mutant] | None = None) -> Iterator[Mutant]:
    """Mutants with two edits at once (`a+b` ids), in the order of the file: two slips made
    together. Only edits on different lines pair up (each mutant keeps the file's line count, so
    the pair is the reference with both mutants' changed lines), which keeps this cheap enough to
    run while diagnosing a learner's check."""
    lines = source.splitlines(keepends=True)
    changed = []
    for m in singles if singles is not None else mutants(source):
        new = m.source.splitlines(keepends=True)
        if len(new) == len(lines):
            changed.append((m, {i: line for i, (old, line) in enumerate(zip(lines, new)) if old != line}))
    for k, (a, edits_a) in enumerate(changed):
        for b, edits_b in changed[k + 1:]:
            if set(edits_a) & set(edits_b):
                continue
            code = "".join({**edits_a, **edits_b}.get(i, line) for i, line in enumerate(lines))
            yield Mutant(f"{a.id}+{b.id}", f"{a.operator}+{b.operator}", a.line,
                         f"{a.description}; and {b.description}", code)
