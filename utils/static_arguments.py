"""Reading `@arguments(...)` declarations from source files, without importing them.

The things a config names (architectures, encoders, weighting methods...) live in
modules that import TensorFlow, which takes seconds. The config loader needs only
their names and declared arguments, so it reads them from the source: for each
top-level function or class decorated with `@<register>("name")`, the keywords of its
`@arguments(...)` decorator and the defaults of its signature (of `__init__` for a
class). The same `Arg` objects result as from importing the module;
`tests/training/test_arguments.py` checks that for every registered name.

A declaration is made of literals, `Arg(...)` calls of literals, and names of
module-level constants (`TOWER_UNITS = Arg(...)`, a `rules` dict, a string; `**NAME`
inside a dict) defined in the same module or imported with `from package.module import
NAME`: that module's source is read under the repo root (`root`), still without
importing it. Anything else (an attribute, a call, `import module`, a relative or
unreadable import) is a `DeclarationError` naming the file, the thing and the name.

A thing registered without `@arguments` is read as `None` (undeclared): its
registry then has to be imported to infer its arguments from the signature.

Example:
>>> from utils.static_arguments import read_source
>>> source = '''
... UNITS = Arg(list, "widths", item=int, range="[1, inf)")
...
... @register_encoder("mlp")
... @arguments(units=UNITS)
... def mlp(input_shape, model_name="mlp", units=(128, 64)):
...     pass
... '''
>>> found = read_source(source, "register_encoder")
>>> found["mlp"]["units"].default, found["mlp"]["units"].valid()
((128, 64), 'a list of integers >= 1')
>>> read_source(source.replace("units=UNITS", "units=WIDTHS"), "register_encoder")
Traceback (most recent call last):
...
utils.static_arguments.DeclarationError: <source>: mlp.units: cannot resolve 'WIDTHS' without importing: define it in <source> as `WIDTHS = ...`, or import it with `from package.module import WIDTHS`
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
    """A declaration the static reader cannot read (see the module docstring)."""


class _Module:
    """The names one module's declarations may use: its top-level constants and the names
    it imports with `from package.module import NAME` (resolved by reading that module)."""

    def __init__(self, tree, filename, root, cache):
        self.tree, self.filename, self.root, self._cache = tree, filename, root, cache
        self.constants, self.imports, self._twice, self._resolving = {}, {}, set(), set()
        for node in tree.body:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    self._bind(target, node.value)
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                self._bind(node.target, node.value)
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = (node.level, node.module,
                                                                alias.name)

    def _bind(self, target, value):
        if isinstance(target, ast.Name):
            if target.id in self.constants:
                self._twice.add(target.id)
            self.constants[target.id] = value

    def resolve(self, name, where):
        """The value of top-level `name`, read (never imported)."""
        if name in self._twice:
            raise DeclarationError(f"{where}: {name!r} is assigned more than once in "
                                   f"{self.filename}; a declaration needs one value")
        if name in self._resolving:
            raise DeclarationError(f"{where}: {name!r} is defined in terms of itself")
        if name in self.constants:
            self._resolving.add(name)
            try:
                return _value(self.constants[name], where, self)
            finally:
                self._resolving.discard(name)
        if name in self.imports:
            level, module, attribute = self.imports[name]
            if level:
                raise DeclarationError(f"{where}: {name!r} is imported relatively in "
                                       f"{self.filename}; import it by its full name")
            return self._module(module, name, where).resolve(attribute, where)
        raise DeclarationError(f"{where}: cannot resolve {name!r} without importing: define it "
                               f"in {self.filename} as `{name} = ...`, or import it with "
                               f"`from package.module import {name}`")

    def _module(self, module, name, where):
        base = os.path.join(self.root, *module.split("."))
        for path in (base + ".py", os.path.join(base, "__init__.py")):
            if os.path.isfile(path):
                return module_at(path, self.root, self._cache)
        raise DeclarationError(f"{where}: {name!r} is imported from {module}, which is not a "
                               f"module under {self.root} (the static reader reads, never "
                               "imports)")


def module_at(path, root, cache=None):
    """The `_Module` of the file at `path` (parsed once per `cache`)."""
    cache = {} if cache is None else cache
    key = os.path.abspath(path)
    if key not in cache:
        with open(path) as f:
            tree = ast.parse(f.read(), path)
        cache[key] = _Module(tree, os.path.relpath(path, root), root, cache)
    return cache[key]


def _value(node, where, module):
    """Evaluates a literal node, an `Arg(...)` call, or a constant's name (see the module
    docstring) in `module`."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return _NAMES[node.id] if node.id in _NAMES else module.resolve(node.id, where)
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [_value(e, where, module) for e in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else items
    if isinstance(node, ast.Dict):
        out = {}
        for key, value in zip(node.keys, node.values):
            if key is None:  # {**NAME, ...}
                out.update(_value(value, where, module))
            else:
                out[_value(key, where, module)] = _value(value, where, module)
        return out
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_value(node.operand, where, module)
    if isinstance(node, ast.Call) and _name(node.func) == "Arg":
        return Arg(*[_value(a, where, module) for a in node.args],
                   **{k.arg: _value(k.value, where, module) for k in node.keywords})
    raise DeclarationError(f"{where}: not a literal ({ast.unparse(node)}); declarations and "
                           "defaults must be literals, Arg(...) calls or constants' names to be "
                           "read without importing")


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


def _declaration(node, call, where, module):
    """{name: Arg} from an `@arguments(...)` call on `node`, defaults from its signature."""
    function = _signature_of(node)
    defaults = _defaults(function) if function is not None else {}
    out = {}
    keywords = {k.arg: k.value for k in call.keywords if k.arg != "rules"}
    rules = next((_value(k.value, f"{where}.rules", module) for k in call.keywords
                  if k.arg == "rules"), None)
    params = _parameters(function) if function is not None else []
    order = [n for n in params if n in keywords] + [n for n in keywords if n not in params]
    for name in order:
        if name not in params:
            raise DeclarationError(f"{where}: declares {name!r}, which it does not take")
        arg = _value(keywords[name], f"{where}.{name}", module)
        default = _value(defaults[name], f"{where}({name}=...)", module) \
            if name in defaults else REQUIRED
        out[name] = dataclasses.replace(arg, default=default)
    return Declaration(out, rules)


def _declarations_of(module, register):
    """{registered name: {argument: Arg} or None} of the things `module` registers."""
    found = {}
    for node in module.tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            continue
        calls = [d for d in node.decorator_list if isinstance(d, ast.Call)]
        names = [c.args[0].value for c in calls if _name(c.func) == register and c.args
                 and isinstance(c.args[0], ast.Constant)]
        declarations = [c for c in calls if _name(c.func) == "arguments"]
        where = f"{module.filename}: {node.name}"
        for name in names:
            found[name] = _declaration(node, declarations[0], where, module) \
                if declarations else None
    return found


def read_source(source, register, filename="<source>", root="."):
    """{registered name: {argument: Arg} or None} of one module's source text; the names it
    imports are read from the modules under `root`."""
    module = _Module(ast.parse(source, filename), filename, root, {})
    return _declarations_of(module, register)


def _definition(module_name, attribute, root, cache):
    """The declaration of top-level `attribute` of `module_name` (a dotted path under `root`)."""
    path = os.path.join(root, *module_name.split(".")) + ".py"
    module = module_at(path, root, cache)
    for node in module.tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == attribute:
            calls = [d for d in node.decorator_list if isinstance(d, ast.Call)
                     and _name(d.func) == "arguments"]
            where = f"{module.filename}: {attribute}"
            return _declaration(node, calls[0], where, module) if calls else None
    raise DeclarationError(f"{path}: no top-level {attribute!r}")


def read_table(path, root=".", cache=None):
    """{registered name: {argument: Arg} or None} of a registry module that lists its
    entries as a literal table, `Registry(..., entries={"name": function, ...})`, each
    function imported with `from module import function`; the declarations are read from
    the modules the table names."""
    cache = {} if cache is None else cache
    table = module_at(os.path.join(root, path), root, cache)
    found = {}
    for node in ast.walk(table.tree):
        if not (isinstance(node, ast.Call) and _name(node.func) == "Registry"):
            continue
        for keyword in node.keywords:
            if keyword.arg == "entries" and isinstance(keyword.value, ast.Dict):
                for key, value in zip(keyword.value.keys, keyword.value.values):
                    _, module_name, attribute = table.imports[value.id]
                    found[key.value] = _definition(module_name, attribute, root, cache)
    return found


def read_declarations(patterns, register, root="."):
    """{registered name: {argument: Arg} or None} over the files matching `patterns`
    (globs relative to `root`), in sorted file order; with `register` None, `patterns` are
    registry modules holding a literal table (`read_table`)."""
    cache = {}  # each module parsed once, however many declarations name its constants
    if register is None:
        return {k: v for path in patterns for k, v in read_table(path, root, cache).items()}
    found = {}
    for pattern in patterns:
        for path in sorted(glob.glob(os.path.join(root, pattern))):
            found.update(_declarations_of(module_at(path, root, cache), register))
    return found
