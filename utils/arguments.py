"""Declared arguments: what each registered thing a config names accepts, in one place.

Architectures, encoders, weighting methods, optimizers, datasets and task kinds take
arguments from free-form config mappings (`model.args`, `model.encoder_args`,
`train.weighting_args`, `train.optimizer_args`, `data.options`, `train.loss_options`).
Each declares them once, where it is defined, with the `arguments` decorator: per
keyword parameter an `Arg` giving its type, its valid range or choices and one line
of meaning; the default stays in the signature. `check` then fails on an unknown
name, a wrong type, a value out of range or an unknown choice, with
`<full key>: <what is wrong>; valid: <range or choices>`, and returns the values
normalised (a float parameter takes YAML's `1e-3`, read as a string; lists are lists).

`Arg` fields:
- `type`: int, float, bool, str, list or dict (a list's or dict's values: `item`);
- `range`: an interval for numbers (of each item for a list or dict), e.g.
  `"[1, inf)"`, `"(0, 1]"`; `choices`: the valid values;
- `length`: an interval for the number of items of a list;
- `null`: None is valid too (e.g. "not set: use the image's size").

A thing without a declaration (e.g. registered by other code) falls back to its
signature: names, and types from annotations or defaults, without ranges.

Example:
>>> from utils.arguments import Arg, arguments, check
>>> @arguments(num_experts=Arg(int, "experts shared by all tasks", range="[1, inf)"),
...            tower_units=Arg(list, "dense layers of each tower", item=int, range="[1, inf)"))
... def mmoe(features, num_experts=4, tower_units=(32,)): ...
>>> check(mmoe.declared_arguments, {"num_experts": 2, "tower_units": (8, 4)}, "model.args")
{'num_experts': 2, 'tower_units': [8, 4]}
>>> check(mmoe.declared_arguments, {"num_experts": 0}, "model.args")
Traceback (most recent call last):
...
utils.arguments.ArgumentError: model.args.num_experts: 0 is out of range; valid: an integer >= 1
"""

import ast
import dataclasses
import inspect
import math
import numbers
import operator
import re
import typing
from typing import Any, Optional

_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")
_TYPE_NAMES = {int: ("an integer", "integers"), float: ("a number", "numbers"),
               bool: ("true or false", "true/false values"), str: ("a string", "strings"),
               list: ("a list", "lists"), dict: ("a mapping", "mappings")}


class ArgumentError(ValueError):
    pass


class _Required:
    def __repr__(self):
        return "required"


REQUIRED = _Required()


@dataclasses.dataclass(frozen=True)
class Interval:
    """A closed, open or half-open interval parsed from text such as `[1, inf)` or `(0, 1]`."""

    low: float
    high: float
    low_closed: bool
    high_closed: bool

    @classmethod
    def parse(cls, text):
        match = re.fullmatch(r"\s*([\[(])\s*([^,]+?)\s*,\s*([^,]+?)\s*([\])])\s*", text or "")
        if not match:
            raise ValueError(f"not an interval: {text!r} (write e.g. '[1, inf)' or '(0, 1]')")
        return cls(float(match[2]), float(match[3]), match[1] == "[", match[4] == "]")

    def __contains__(self, x):
        above = x >= self.low if self.low_closed else x > self.low
        below = x <= self.high if self.high_closed else x < self.high
        return above and below

    def describe(self, integer=False):
        """`>= 1`, `> 0`, `<= 5`, `in [0, 1)`; an integer range reads `1 to 8`."""
        low, high = (_number(self.low), _number(self.high))
        if math.isinf(self.high):
            return f"{'>=' if self.low_closed else '>'} {low}"
        if math.isinf(self.low):
            return f"{'<=' if self.high_closed else '<'} {high}"
        if integer and self.low_closed and self.high_closed:
            return f"{low} to {high}"
        return f"in {'[' if self.low_closed else '('}{low}, {high}{']' if self.high_closed else ')'}"


def _count(interval):
    """`at least 2`, `at most 3`, `1 to 4`: a number of items."""
    def end(x, closed, up):
        if math.isinf(x):
            return None
        return (math.ceil(x) if closed else math.floor(x) + 1) if up else \
            (math.floor(x) if closed else math.ceil(x) - 1)
    low = end(interval.low, interval.low_closed, True)
    high = end(interval.high, interval.high_closed, False)
    if high is None:
        return f"at least {low}"
    if low is None or low <= 0:
        return f"at most {high}"
    return f"{low} to {high}"


def _number(x):
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(x)


@dataclasses.dataclass(frozen=True)
class Arg:
    """One declared argument (see the module docstring).

    Args:
        type: type. int, float, bool, str, list or dict.
        doc: str. One line of meaning.
        range: str or None. Valid interval of a number (of each item of a list/dict).
        choices: tuple or None. The valid values (of each item of a list/dict).
        item: type or None. The type of a list's items or a dict's values.
        length: str or None. Valid interval of a list's number of items.
        null: bool. Whether None (YAML `null`) is valid too.
        default: the signature's default, filled in by `arguments`.
    """

    type: type
    doc: str
    range: Optional[str] = None
    choices: Optional[tuple] = None
    item: Optional[type] = None
    length: Optional[str] = None
    null: bool = False
    default: Any = REQUIRED

    def __post_init__(self):
        kinds = self.type if isinstance(self.type, tuple) else (self.type,)
        if not all(k in _TYPE_NAMES for k in kinds) or (self.item is not None
                                                      and self.item not in _TYPE_NAMES):
            raise TypeError(f"Arg type must be int, float, bool, str, list, dict or a tuple of "
                            f"them; got {self.type!r} / item {self.item!r}")
        for interval in (self.range, self.length):
            if interval is not None:
                Interval.parse(interval)
        if self.choices is not None:
            object.__setattr__(self, "choices", tuple(self.choices))

    # ------------------------------------------------------------ describing
    @property
    def element(self):
        """The type the range and choices apply to: the item type of a list or dict."""
        return self.item if self.type in (list, dict) else self.type

    @property
    def types(self):
        return self.type if isinstance(self.type, tuple) else (self.type,)

    def _scalar(self, plural=False):
        kind = self.element
        if kind is None:
            return "values" if plural else "a value"
        text = _TYPE_NAMES[kind][1 if plural else 0]
        if self.choices is not None:
            return f"one of {', '.join(map(str, self.choices))}"
        if self.range is not None:
            text += " " + Interval.parse(self.range).describe(integer=kind is int)
        return text

    def _alternatives(self):
        """One Arg per type of a union type (`type=(int, list)`)."""
        return [dataclasses.replace(self, type=k, null=False) for k in self.type]

    def valid(self):
        """What a valid value is, in words: `an integer >= 1`, `a list of integers >= 1`."""
        if isinstance(self.type, tuple):
            text = " or ".join(a.valid() for a in self._alternatives())
        elif self.type is list:
            text = "a list" + (f" of {self._scalar(plural=True)}" if self.item else "")
            if self.length is not None:
                count = _count(Interval.parse(self.length))
                text += f" ({count} {'item' if count.endswith(' 1') else 'items'})"
        elif self.type is dict:
            text = "a mapping" + (f" to {self._scalar(plural=True)}" if self.item else "")
        else:
            text = self._scalar()
        return text + (", or null" if self.null else "")

    # -------------------------------------------------------------- checking
    def check(self, value, where):
        """The value, normalised; raises ArgumentError naming `where` when it is not valid."""
        if value is None:
            if self.null:
                return None
            raise ArgumentError(f"{where}: null is not valid; valid: {self.valid()}")
        if isinstance(self.type, tuple):
            chosen = next((a for a in self._alternatives() if _matches(value, a.type)), None)
            if chosen is None:
                raise ArgumentError(f"{where}: got {value!r} ({type(value).__name__}); "
                                    f"valid: {self.valid()}")
            return chosen.check(value, where)
        value = self._typed(value, self.type, where)
        if self.type is list:
            if self.length is not None and len(value) not in Interval.parse(self.length):
                count = len(value)
                raise ArgumentError(f"{where}: {count} item{'' if count == 1 else 's'}; valid: "
                                    f"{self.valid()}")
            if self.item is not None:
                value = [self._element(v, f"{where}[{i}]") for i, v in enumerate(value)]
        elif self.type is dict:
            for key in value:
                if not isinstance(key, str):
                    raise ArgumentError(f"{where}: key {key!r} is not a string; valid: "
                                        f"{self.valid()}")
            if self.item is not None:
                value = {k: self._element(v, f"{where}.{k}") for k, v in value.items()}
        else:
            value = self._bounded(value, where)
        return value

    def _element(self, value, where):
        return self._bounded(self._typed(value, self.item, where), where)

    def _typed(self, value, kind, where):
        if kind is float and isinstance(value, str) and _NUMBER.fullmatch(value):
            value = float(value)  # YAML 1.1 reads 1e-3 (no dot) as a string
        if not _matches(value, kind):
            raise ArgumentError(f"{where}: expected {_TYPE_NAMES[kind][0]}, got {value!r} "
                                f"({type(value).__name__}); valid: {self.valid()}")
        if kind is float:
            if not math.isfinite(value):  # no argument means anything by nan or infinity
                raise ArgumentError(f"{where}: {value!r} is not a finite number; valid: "
                                    f"{self.valid()}")
            return float(value)
        if kind is list:
            return list(value)
        return value

    def _bounded(self, value, where):
        if self.choices is not None and value not in self.choices:
            raise ArgumentError(f"{where}: unknown value {value!r}; valid: "
                                f"{', '.join(map(str, self.choices))}")
        if self.range is not None and isinstance(value, numbers.Real) and (
                value not in Interval.parse(self.range)):
            raise ArgumentError(f"{where}: {value!r} is out of range; valid: {self.valid()}")
        return value


def _matches(value, kind):
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, numbers.Real) and not isinstance(value, bool)
    if kind is str:
        return isinstance(value, str)
    if kind is list:
        return isinstance(value, (list, tuple))
    if kind is dict:
        return isinstance(value, dict)
    return True


class Declaration(dict):
    """{name: Arg} in signature order, and `rules`: {name: expression} relations between
    arguments that must hold (e.g. `{"num_nonzeros": "num_nonzeros <= num_experts"}`);
    a broken rule is reported on the argument it is keyed by."""

    def __init__(self, args=(), rules=None):
        super().__init__(args)
        self.rules = dict(rules or {})

    def __eq__(self, other):
        return dict.__eq__(self, other) and self.rules == getattr(other, "rules", {})

    __hash__ = None


_OPERATORS = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
              ast.GtE: operator.ge, ast.Eq: operator.eq, ast.NotEq: operator.ne,
              ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
              ast.Mod: operator.mod, ast.In: lambda a, b: a in b,
              ast.NotIn: lambda a, b: a not in b}


def evaluate_rule(expression, values):
    """The value of a rule: comparisons (`in` too), and/or/not, + - * %, `len(x)`, names and
    constants."""

    def value(node):
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return values[node.id]
        if isinstance(node, ast.BoolOp):
            parts = [value(v) for v in node.values]
            return all(parts) if isinstance(node.op, ast.And) else any(parts)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return not value(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.Compare):
            left, ok = value(node.left), True
            for op, right in zip(node.ops, node.comparators):
                right = value(right)
                ok = ok and _OPERATORS[type(op)](left, right)
                left = right
            return ok
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "len":
            return len(value(node.args[0]) or ())
        raise ValueError(f"rule {expression!r}: {ast.unparse(node)} is not allowed")

    return value(ast.parse(expression, mode="eval"))


def _signature(obj):
    return inspect.signature(obj.__init__ if isinstance(obj, type) else obj)


def arguments(rules=None, **declared):
    """Decorator declaring the keyword arguments of a function or class (its `__init__`).

    Each keyword is a parameter, with a default (taken from the signature into the
    `Arg`, and valid itself) or without one (then the config must give it). `rules`: {argument: expression} that
    must hold between arguments (see `Declaration`). Sets `obj.declared_arguments`,
    a `Declaration` in signature order. An empty `@arguments()` declares "takes none".
    """

    def wrap(obj):
        params = _signature(obj).parameters
        name = getattr(obj, "__qualname__", obj)
        out = {}
        for arg_name, param in params.items():
            if arg_name not in declared:
                continue
            if param.default is inspect.Parameter.empty:  # required: the config must give it
                out[arg_name] = dataclasses.replace(declared[arg_name], default=REQUIRED)
                continue
            arg = dataclasses.replace(declared[arg_name], default=param.default)
            arg.check(_plain(param.default), f"{name}({arg_name}=...) default")
            out[arg_name] = arg
        unknown = sorted(set(declared) - set(out))
        if unknown:
            raise TypeError(f"{name}: declares {unknown}, which it does not take")
        declaration = Declaration(out, rules)
        if rules:
            check(declaration, {}, f"{name} defaults")  # the rules hold for the defaults
        obj.declared_arguments = declaration
        return obj

    return wrap


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def declared(obj, skip=()):
    """{name: Arg} of `obj`: its own declaration, else one inferred from its signature
    (types from annotations or defaults, no ranges) minus the parameters in `skip`."""
    own = obj.__dict__.get("declared_arguments") if hasattr(obj, "__dict__") else None
    if own is not None:
        return own
    out = Declaration()
    for name, param in _signature(obj).parameters.items():
        if name in skip or name == "self" or param.kind in (param.VAR_POSITIONAL,
                                                            param.VAR_KEYWORD):
            continue
        out[name] = _inferred(param)
    return out


def _inferred(param):
    kind, item, null = _from_annotation(param.annotation)
    default = param.default
    if kind is None and default is not inspect.Parameter.empty and default is not None:
        kind = next((t for t in (bool, int, float, str, dict) if _matches(default, t)), None)
        if isinstance(default, (list, tuple)):
            kind = list
            items = {next((t for t in (int, float) if _matches(v, t)), None) for v in default}
            item = items.pop() if len(items) == 1 else None
    if kind is None:  # no annotation, no default, or a None default: anything goes
        return _Anything(default=default)
    return Arg(kind, "", item=item, null=null or default is None, default=default)


class _Anything(Arg):
    def __init__(self, default=REQUIRED):
        super().__init__(str, "", default=default)

    def valid(self):
        return "any value"

    def check(self, value, where):
        return value


def _from_annotation(annotation):
    """(type, item type, optional) of an annotation such as Optional[Sequence[int]]."""
    if annotation is inspect.Parameter.empty:
        return None, None, False
    optional = False
    if typing.get_origin(annotation) is typing.Union:
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(options) < len(typing.get_args(annotation))
        if len(options) != 1:
            return None, None, optional
        annotation = options[0]
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, typing.Sequence) or annotation in (list, tuple):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        item = args[0] if args and args[0] in _TYPE_NAMES else None
        return list, item, optional
    if origin is dict or annotation is dict:
        return dict, None, optional
    if annotation in _TYPE_NAMES:
        return annotation, None, optional
    return None, None, optional


def check(declaration, args, key, what=None):
    """`args` checked against `declaration` ({name: Arg}); returns them normalised.

    Args:
        declaration: dict. {name: Arg}, from `declared`.
        args: dict or None. The arguments given.
        key: str. The config key holding them, for messages ("model.args").
        what: str or None. Names the owner in the unknown-argument message
            ("architecture 'mmoe'").
    """
    if args is None:
        return {}
    if not isinstance(args, dict):
        raise ArgumentError(f"{key}: expected a mapping, got {args!r}; valid: a mapping of "
                            f"{', '.join(declaration) or '(no arguments)'}")
    out = {}
    for name, value in args.items():
        if name not in declaration:
            owner = f" of {what}" if what else ""
            raise ArgumentError(f"{key}.{name}: unknown argument{owner}; valid: "
                                f"{', '.join(declaration) or '(none)'}")
        out[name] = declaration[name].check(value, f"{key}.{name}")
    missing = [n for n, a in declaration.items() if a.default is REQUIRED and n not in out]
    if missing:
        raise ArgumentError(f"{key}.{missing[0]}: required{' by ' + what if what else ''}; "
                            f"valid: {declaration[missing[0]].valid()}")
    rules = getattr(declaration, "rules", {})
    if rules:
        values = {n: _plain(a.default) for n, a in declaration.items()}
        values.update(out)
        for name, rule in rules.items():
            if not evaluate_rule(rule, values):
                others = ", ".join(f"{n} is {values[n]!r}" for n in sorted(values)
                                   if n != name and re.search(rf"\b{n}\b", rule))
                raise ArgumentError(f"{key}.{name}: {values[name]!r} breaks {rule}"
                                    f"{' (' + others + ')' if others else ''}; valid: {rule}")
    return out


def check_arguments(obj, args, key, skip=(), what=None):
    """`check(declared(obj, skip), args, key, what)`: for callers holding the object."""
    return check(declared(obj, skip), args, key, what)


def _default_text(arg):
    if arg.default is REQUIRED:
        return "required"
    return yaml_text(_plain(arg.default))


def yaml_text(value):
    """A value as YAML writes it inline: null, true, [64, 32], {a: 1} (the defaults on the
    docs' Arguments and Config keys pages)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(yaml_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {yaml_text(v)}" for k, v in value.items()) + "}"
    return str(value)


def text(declaration, indent="  "):
    """Plain-text lines, one block per argument: name, type, default, valid values, meaning."""
    if not declaration:
        return [f"{indent}(no arguments)"]
    lines = []
    for name, arg in declaration.items():
        lines.append(f"{indent}{name}: {arg.valid()}; default {_default_text(arg)}")
        if arg.doc:
            lines.append(f"{indent}    {arg.doc}")
    for name, rule in getattr(declaration, "rules", {}).items():
        lines.append(f"{indent}rule: {rule}")
    return lines


def markdown(declaration):
    """A Markdown table of `declaration`: argument, valid values, default, meaning."""
    if not declaration:
        return "No arguments.\n"
    rows = ["| argument | valid values | default | meaning |", "|---|---|---|---|"]
    for name, arg in declaration.items():
        cells = [f"`{name}`", arg.valid(), f"`{_default_text(arg)}`", arg.doc]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    rules = getattr(declaration, "rules", {})
    if rules:
        rows.append("")
        rows += [f"Rule: `{rule}`." for rule in rules.values()]
    return "\n".join(rows) + "\n"
