"""The project's code read as syntax trees (nothing is imported or run), for the tests that
guard its structure: kind strings compared outside their layers, import cycles among the
modules, and functions past the length the developers' guide allows.

`python_files()` is the project's code: every `.py` file outside `tests/` and hidden folders
(`.venv`, `.git`); each check also takes such a {path: source} mapping of its own, which is
how the tests show that a check sees what it looks for.
"""

import ast
import functools
import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The layers that own the task and input kinds; only they may name a kind to compare it.
KIND_LAYERS = ("tasks", "inputs")


@functools.lru_cache(maxsize=None)
def _project_files(root):
    files = {}
    for folder, dirs, names in os.walk(root):
        rel_folder = os.path.relpath(folder, root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__"
                         and not (rel_folder == "." and d == "tests"))
        for name in sorted(names):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                with open(path) as f:
                    files[os.path.relpath(path, root)] = f.read()
    return files


def python_files(root=REPO):
    """{path relative to `root`: source} of the project's Python files."""
    return dict(_project_files(root))


# ------------------------------------------------------------------ kind strings


def _is_str(node, value=None):
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and (
        value is None or node.value == value)


def _is_kind_access(node):
    """`x.kind`, `x["kind"]`, `x.get("kind")` or `getattr(x, "kind")`."""
    if isinstance(node, ast.Attribute):
        return node.attr == "kind"
    if isinstance(node, ast.Subscript):
        return _is_str(node.slice, "kind")
    if isinstance(node, ast.Call) and len(node.args) >= 1:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "get":
            return _is_str(node.args[0], "kind")
        if isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) >= 2:
            return _is_str(node.args[1], "kind")
    return False


def _kind_names(tree):
    """Names bound to a kind in the file (`kind = task.kind`): comparing them is comparing
    the kind."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and \
                node.value is not None and _is_kind_access(node.value):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def _strings(operand):
    items = operand.elts if isinstance(operand, (ast.Tuple, ast.List, ast.Set)) else [operand]
    return {c.value for c in items if _is_str(c)}


def _case_strings(pattern):
    if isinstance(pattern, ast.MatchValue):
        return {pattern.value.value} if _is_str(pattern.value) else set()
    if isinstance(pattern, ast.MatchOr):
        return set().union(*(_case_strings(p) for p in pattern.patterns))
    return set()


def kind_comparisons(source, names):
    """Lines of `source` that compare a kind with one of the strings `names`:
    `x.kind == "binary"`, `x["kind"] in ("image", "text")`, `kind != "text"` after
    `kind = x.kind`, or `match x.kind:` with `case "binary":`."""
    tree, names = ast.parse(source), set(names)
    bound = _kind_names(tree)

    def is_kind(node):
        return _is_kind_access(node) or isinstance(node, ast.Name) and node.id in bound

    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left] + node.comparators
            if any(is_kind(o) for o in operands) and \
                    set().union(*(_strings(o) for o in operands)) & names:
                lines.append(node.lineno)
        elif isinstance(node, ast.Match) and is_kind(node.subject):
            if set().union(*(_case_strings(c.pattern) for c in node.cases)) & names:
                lines.append(node.lineno)
    return sorted(lines)


def kind_string_comparisons(names, files=None):
    """`path:line` of every comparison of a kind with one of the strings `names` in the
    project's code (or `files`) outside the layers that own the kinds."""
    files = python_files() if files is None else files
    return [f"{path}:{line}" for path, source in sorted(files.items())
            if path.split(os.sep)[0] not in KIND_LAYERS
            for line in kind_comparisons(source, names)]


# ------------------------------------------------------------------ imports


def module_name(path):
    """`a/b/c.py` -> `a.b.c`; a package's `a/b/__init__.py` -> `a.b`."""
    parts = path[:-len(".py")].split(os.sep)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node, package):
    """(module, names taken from it) of one import statement in package `package`."""
    if isinstance(node, ast.Import):
        return [(alias.name, ()) for alias in node.names]
    base = node.module or ""
    if node.level:  # relative: from the package, up level - 1 packages
        parents = package.split(".")[:len(package.split(".")) - node.level + 1]
        base = ".".join(p for p in parents + [base] if p)
    return [(base, tuple(alias.name for alias in node.names))]


def import_graph(files=None):
    """{module: the project's modules it imports} of the project's code (or `files`), at
    module level or inside a function: a lazy import still ties the two modules (registration
    through a lazy import was a cycle of this kind). `from pkg import name` imports `pkg.name`
    when that is a module, else `pkg` (its `__init__.py`, re-exports included). A name no
    project module has is looked up beside the importing file (a script folder put on
    sys.path, like bench/)."""
    files = python_files() if files is None else files
    paths = {module_name(p): p for p in files}
    graph = {}
    for path, source in files.items():
        module = module_name(path)
        package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
        beside = os.path.dirname(path).replace(os.sep, ".")
        edges = set()
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for base, names in _imported(node, package):
                for target in [f"{base}.{n}" for n in names] or [base]:
                    found = _resolve(target, paths, beside) or _resolve(base, paths, beside)
                    if found:
                        edges.add(found)
        graph[module] = edges - {module}
    return graph


def _resolve(name, modules, beside):
    """The project module `name` stands for, in the tree or beside the importing file."""
    for candidate in (name, f"{beside}.{name}" if beside else None):
        if candidate in modules:
            return candidate
    return None


def import_cycles(files=None):
    """The import cycles of the project's code (or `files`): each a sorted list of the
    modules that import each other in a loop (Tarjan's strongly connected components)."""
    graph = import_graph(files)
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(cycles)


# ------------------------------------------------------------------ function length


def function_lengths(files=None):
    """{`path:line name`: lines} of every function of the project's code (or `files`),
    counted from its `def` line to its last line, docstring included."""
    files = python_files() if files is None else files
    out = {}
    for path, source in sorted(files.items()):
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out[f"{path}:{node.lineno} {node.name}"] = node.end_lineno - node.lineno + 1
    return out


def long_functions(limit=50, files=None):
    """{`path:line name`: lines} of the functions longer than `limit` lines."""
    return {k: n for k, n in function_lengths(files).items() if n > limit}
