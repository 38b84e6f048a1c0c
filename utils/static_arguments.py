"""Reading `@arguments(...)` declarations from source files, without importing them.

The things a config names (architectures, encoders, weighting methods...) live in
modules that import TensorFlow, which takes seconds. The config loader needs only
their names and declared arguments, so it reads them from the source: for each
top-level function or class decorated with `@<register>("name")`, the keywords of its
`@arguments(...)` decorator (literal `Arg(...)` calls) and the defaults of its
signature (of `__init__` for a class). The same `Arg` objects result as from
importing the module; `tests/training/test_arguments.py` checks that for every
registered name.

A thing registered without `@arguments` is read as `None` (undeclared): its
registry then has to be imported to infer its arguments from the signature.

Example:
>>> from utils.static_arguments import read_source
>>> source = '''
... @register_encoder("mlp")
... @arguments(units=Arg(list, "widths", item=int, range="[1, inf)"))
... def mlp(input_shape, model_name="mlp", units=(128, 64)):
...     pass
... '''
>>> found = read_source(source, "register_encoder")
>>> found["mlp"]["units"].default, found["mlp"]["units"].valid()
((128, 64), 'a list of integers >= 1')
"""

import ast
import dataclasses
import glob
import math
import os

from utils.arguments import REQUIRED, Arg, Declaration

# What a declaration may name: the Arg constructor, the types, and constants.
_NAMES = {"Arg": Arg, "int": int, "float": float, "bool": bool, "str": str, "list": list,
          "dict": dict, "None": None, "True": True, "False": False, "inf": math.inf}


class DeclarationError(ValueError):
    """A declaration the static reader cannot read (it must be literal)."""


def _value(node, where):
    """Evaluates a literal node, or an `Arg(...)` call of literals."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and node.id in _NAMES:
        return _NAMES[node.id]
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [_value(e, where) for e in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else items
    if isinstance(node, ast.Dict):
        return {_value(k, where): _value(v, where) for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_value(node.operand, where)
    if isinstance(node, ast.Call) and _name(node.func) == "Arg":
        return Arg(*[_value(a, where) for a in node.args],
                   **{k.arg: _value(k.value, where) for k in node.keywords})
    raise DeclarationError(f"{where}: not a literal ({ast.unparse(node)}); declarations and "
                           "defaults must be literals to be read without importing")


def _name(func):
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def _defaults(function):
    """{parameter: default node} of a function definition."""
    args = function.args
    positional = args.posonlyargs + args.args
    out = dict(zip([a.arg for a in positional[len(positional) - len(args.defaults):]],
                   args.defaults))
    out.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None})
    return out


def _parameters(function):
    args = function.args
    return [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]


def _signature_of(node):
    if isinstance(node, ast.ClassDef):
        return next((n for n in node.body if isinstance(n, ast.FunctionDef)
                     and n.name == "__init__"), None)
    return node


def _declaration(node, call, where):
    """{name: Arg} from an `@arguments(...)` call on `node`, defaults from its signature."""
    function = _signature_of(node)
    defaults = _defaults(function) if function is not None else {}
    out = {}
    keywords = {k.arg: k.value for k in call.keywords if k.arg != "rules"}
    rules = next((_value(k.value, f"{where}.rules") for k in call.keywords
                  if k.arg == "rules"), None)
    params = _parameters(function) if function is not None else []
    order = [n for n in params if n in keywords] + [n for n in keywords if n not in params]
    for name in order:
        if name not in params:
            raise DeclarationError(f"{where}: declares {name!r}, which it does not take")
        arg = _value(keywords[name], f"{where}.{name}")
        default = _value(defaults[name], f"{where}({name}=...)") if name in defaults else \
            REQUIRED
        out[name] = dataclasses.replace(arg, default=default)
    return Declaration(out, rules)


def read_source(source, register, filename="<source>"):
    """{registered name: {argument: Arg} or None} of one module's source text."""
    found = {}
    for node in ast.parse(source, filename).body:
        if not isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            continue
        calls = [d for d in node.decorator_list if isinstance(d, ast.Call)]
        names = [c.args[0].value for c in calls if _name(c.func) == register and c.args
                 and isinstance(c.args[0], ast.Constant)]
        declarations = [c for c in calls if _name(c.func) == "arguments"]
        where = f"{filename}: {node.name}"
        for name in names:
            found[name] = _declaration(node, declarations[0], where) if declarations else None
    return found


def _definition(module, attribute, root):
    """The declaration of top-level `attribute` of `module` (a dotted path under `root`)."""
    path = os.path.join(root, *module.split(".")) + ".py"
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == attribute:
            calls = [d for d in node.decorator_list if isinstance(d, ast.Call)
                     and _name(d.func) == "arguments"]
            where = f"{os.path.relpath(path, root)}: {attribute}"
            return _declaration(node, calls[0], where) if calls else None
    raise DeclarationError(f"{path}: no top-level {attribute!r}")


def read_table(path, root="."):
    """{registered name: {argument: Arg} or None} of a registry module that lists its
    entries as a literal table, `Registry(..., entries={"name": function, ...})`, each
    function imported with `from module import function`; the declarations are read from
    the modules the table names."""
    with open(os.path.join(root, path)) as f:
        tree = ast.parse(f.read(), path)
    imported = {alias.asname or alias.name: (node.module, alias.name)
                for node in tree.body if isinstance(node, ast.ImportFrom)
                for alias in node.names}
    found = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _name(node.func) == "Registry"):
            continue
        for keyword in node.keywords:
            if keyword.arg == "entries" and isinstance(keyword.value, ast.Dict):
                for key, value in zip(keyword.value.keys, keyword.value.values):
                    found[key.value] = _definition(*imported[value.id], root)
    return found


def read_declarations(patterns, register, root="."):
    """{registered name: {argument: Arg} or None} over the files matching `patterns`
    (globs relative to `root`), in sorted file order; with `register` None, `patterns` are
    registry modules holding a literal table (`read_table`)."""
    if register is None:
        return {k: v for path in patterns for k, v in read_table(path, root).items()}
    found = {}
    for pattern in patterns:
        for path in sorted(glob.glob(os.path.join(root, pattern))):
            with open(path) as f:
                found.update(read_source(f.read(), register, os.path.relpath(path, root)))
    return found
