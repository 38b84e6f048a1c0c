"""The structure the developers' guide asks for, measured from the code (tests/code_scan.py
reads it as syntax trees): no import cycle among the project's modules, and no function
outside tests/ longer than 50 lines. (No kind string compared outside tasks/ and inputs/:
tests/tasks/test_kinds.py and tests/inputs/test_kinds.py.)"""

from tests.code_scan import function_lengths, import_cycles, import_graph, long_functions

# Functions allowed past 50 lines, `path name` -> why. Empty: add one only with the reason it
# cannot be split into functions of one idea each.
LONG_FUNCTIONS = {}


def _path_and_name(where):
    """`a/b.py:12 main` -> `a/b.py main` (the allowlist does not move with the lines)."""
    path, line_and_name = where.split(":", 1)
    return f"{path} {line_and_name.split(' ', 1)[1]}"


def test_no_import_cycle_among_the_project_s_modules():
    assert import_cycles() == [], "modules that import each other in a loop"


def test_no_function_outside_tests_is_longer_than_50_lines():
    long = {_path_and_name(where): n for where, n in long_functions(50).items()}
    assert {k: n for k, n in long.items() if k not in LONG_FUNCTIONS} == {}, \
        "split these into functions of one idea each"
    assert sorted(set(LONG_FUNCTIONS) - set(long)) == [], "allowed but no longer long: remove"


# A package whose __init__.py re-exports a name its module takes back from the package,
# one registration through a lazy import, and imports that make no cycle.
PACKAGE = {
    "pkg/__init__.py": "from pkg.a import A  # noqa: F401\n",
    "pkg/a.py": "from pkg import b\nfrom pkg import B\nA = 1\n",
    "pkg/b.py": "import os\nB = 2\n",
    "reg/registry.py": "def get(name):\n    from reg import plugins\n    return plugins\n",
    "reg/plugins.py": "from reg.registry import get\n",
    "bench/run.py": "import helper\n",
    "bench/helper.py": "X = 1\n",
}


def test_the_cycle_check_sees_re_exports_and_lazy_imports():
    graph = import_graph(PACKAGE)
    assert graph["pkg.a"] == {"pkg", "pkg.b"} and graph["bench.run"] == {"bench.helper"}
    assert import_cycles(PACKAGE) == [["pkg", "pkg.a"], ["reg.plugins", "reg.registry"]]
    assert import_cycles({k: v for k, v in PACKAGE.items() if k.startswith("bench")}) == []


def test_a_function_is_counted_from_def_to_its_last_line():
    source = "@decorator\ndef f():\n    \"\"\"Doc.\n\n    More.\"\"\"\n" + "    x = 1\n" * 46
    assert function_lengths({"m.py": source}) == {"m.py:2 f": 50}
    assert long_functions(50, {"m.py": source + "    return x\n"}) == {"m.py:2 f": 51}
