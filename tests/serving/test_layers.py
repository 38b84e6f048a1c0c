"""serving/ is layered (serving/__init__.py): the core imports no transport and no protocol, the
transports no protocol, and no protocol another one; only the entry point (server.py) puts them
together. Read from the import statements of every module, function-level imports included."""

import ast
import os

import pytest

SERVING = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "serving")
PROTOCOLS = ("rest_v1", "grpc_v1", "kserve_v2")
SHARED = ("serving.errors", "serving.protos")
# What each layer may import from serving/ besides itself and the shared modules.
ALLOWED = {"core": (), "transport": (), "rest_v1": ("core", "transport"),
           "grpc_v1": ("core", "transport"), "kserve_v2": ("core", "transport")}


def serving_imports(path):
    """The serving.* modules a file imports (`from serving.x import y` counts serving.x.y too)."""
    with open(path) as f:
        tree = ast.parse(f.read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return {m for m in found if m.split(".")[0] == "serving"}


def modules_of(layer):
    folder = os.path.join(SERVING, layer)
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".py"))


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_imports_only_the_layers_below_it(layer):
    allowed = {f"serving.{name}" for name in (layer, *ALLOWED[layer])}
    for path in modules_of(layer):
        for module in serving_imports(path):
            package = ".".join(module.split(".")[:2])
            if module in SHARED or package in allowed or package in SHARED:
                continue
            pytest.fail(f"{os.path.relpath(path, SERVING)} imports {module}")


def test_only_the_server_entry_point_imports_a_protocol():
    for name in os.listdir(SERVING):
        if not name.endswith(".py") or name == "server.py":
            continue
        for module in serving_imports(os.path.join(SERVING, name)):
            assert module.split(".")[1] not in PROTOCOLS, f"serving/{name} imports {module}"
