"""Declared arguments (utils/arguments.py) and reading them from source without importing
(utils/static_arguments.py): types, ranges, choices, lengths, null, rules, messages."""

import importlib
import math
import sys

import pytest

from utils.arguments import Arg, ArgumentError, arguments, check, declared, evaluate_rule
from utils.static_arguments import DeclarationError, read_declarations, read_source

SOURCE = '''
@register_thing("demo")
@arguments(rules={"low": "low < high"},
           low=Arg(float, "lower bound"),
           high=Arg(float, "upper bound"),
           count=Arg(int, "how many", range="[1, 8]"),
           rate=Arg(float, "a rate", range="(0, 1]"),
           widths=Arg(list, "widths", item=int, range="[1, inf)", length="[1, 3]"),
           mode=Arg(str, "a mode", choices=("a", "b")),
           size=Arg((int, list), "one or several", item=int, range="[1, inf)"),
           levels=Arg(dict, "levels", item=int, range="[0, inf)", null=True),
           flag=Arg(bool, "a flag"))
def demo(context, low=-1.0, high=1.0, count=2, rate=0.5, widths=(4,), mode="a", size=3,
         levels=None, flag=False):
    pass
'''


def demo_declaration():
    namespace = {"register_thing": lambda name: (lambda f: f), "arguments": arguments,
                 "Arg": Arg}
    exec(SOURCE, namespace)
    return namespace["demo"].declared_arguments


def test_the_static_reading_equals_the_imported_declaration():
    static = read_source(SOURCE, "register_thing")["demo"]
    assert static == demo_declaration() and static.rules == {"low": "low < high"}
    assert list(static) == ["low", "high", "count", "rate", "widths", "mode", "size", "levels",
                            "flag"]
    assert static["widths"].default == (4,) and static["levels"].default is None


def test_a_registered_thing_without_a_declaration_reads_as_undeclared():
    assert read_source('@register_thing("x")\ndef x(a=1):\n    pass\n', "register_thing") == \
        {"x": None}


def test_a_declaration_that_is_not_literal_cannot_be_read():
    with pytest.raises(DeclarationError, match="x.a: not a literal"):
        read_source('@register_thing("x")\n@arguments(a=Arg(int, "d".upper()))\ndef x(a=1):\n'
                    '    pass\n', "register_thing")


# Constants of a small package under a root of its own: `shared` imports one from `docs`.
PACKAGE = {
    "pkg/__init__.py": "",
    "pkg/docs.py": 'WIDTH_DOC = "widths"\n',
    "pkg/shared.py": (
        "from pkg.docs import WIDTH_DOC\n"
        "from utils.arguments import Arg\n\n"
        'WIDTHS = Arg(list, WIDTH_DOC, item=int, range="[1, inf)")\n'
        'RULES = {"low": "low < high"}\n'),
    "pkg/thing.py": (
        "from pkg.shared import RULES, WIDTHS as UNITS\n"
        "from utils.arguments import Arg, arguments\n\n"
        'BOUND = Arg(float, "a bound")\n'
        "DEFAULT_HIGH = 1.0\n\n\n"
        'def register_thing(name):\n'
        '    return lambda f: f\n\n\n'
        '@register_thing("thing")\n'
        '@arguments(rules={**RULES, "units": "len(units) >= 1"}, low=BOUND, high=BOUND,\n'
        "           units=UNITS)\n"
        "def thing(low=0.0, high=DEFAULT_HIGH, units=(4,)):\n"
        "    pass\n"),
}


@pytest.fixture
def package(tmp_path, monkeypatch):
    for path, text in PACKAGE.items():
        (tmp_path / path).parent.mkdir(exist_ok=True)
        (tmp_path / path).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m == "pkg" or m.startswith("pkg.")]:
        del sys.modules[name]


def test_constants_of_the_module_and_imported_ones_read_as_the_imported_declaration(package):
    static = read_declarations(["pkg/thing.py"], "register_thing", str(package))["thing"]
    runtime = importlib.import_module("pkg.thing").thing.declared_arguments
    assert static == runtime and static.rules == runtime.rules
    assert static.rules == {"low": "low < high", "units": "len(units) >= 1"}
    assert static["units"].doc == "widths" and static["high"].default == 1.0


@pytest.mark.parametrize("before, decorator, message", [
    ("", "@arguments(low=MISSING)",
     "pkg/thing.py: thing.low: cannot resolve 'MISSING' without importing: define it in "
     "pkg/thing.py as `MISSING = ...`, or import it with `from package.module import MISSING`"),
    ("from pkg.nowhere import GONE", "@arguments(low=GONE)",
     "pkg/thing.py: thing.low: 'GONE' is imported from pkg.nowhere, which is not a module under"),
    ("from pkg.shared import ABSENT", "@arguments(low=ABSENT)",
     "pkg/thing.py: thing.low: cannot resolve 'ABSENT' without importing: define it in "
     "pkg/shared.py"),
    ("from .shared import WIDTHS", "@arguments(units=WIDTHS)",
     "pkg/thing.py: thing.units: 'WIDTHS' is imported relatively in pkg/thing.py; import it "
     "by its full name"),
    ("BOUND = None", "@arguments(low=BOUND)",
     "pkg/thing.py: thing.low: 'BOUND' is assigned more than once in pkg/thing.py"),
    ("LOOP = LOOP", "@arguments(low=LOOP)",
     "pkg/thing.py: thing.low: 'LOOP' is defined in terms of itself"),
    ("", "@arguments(rules=NO_RULES)", "pkg/thing.py: thing.rules: cannot resolve 'NO_RULES'"),
])
def test_a_name_that_cannot_be_resolved_without_importing_is_a_clear_error(
        package, before, decorator, message):
    source = PACKAGE["pkg/thing.py"]
    head = source[:source.index('@register_thing("thing")')]
    (package / "pkg/thing.py").write_text(
        f'{head}{before}\n\n\n@register_thing("thing")\n{decorator}\n'
        "def thing(low=0.0, high=1.0, units=(4,)):\n    pass\n")
    with pytest.raises(DeclarationError) as error:
        read_declarations(["pkg/thing.py"], "register_thing", str(package))
    assert str(error.value).startswith(message), str(error.value)



@pytest.mark.parametrize("args, normalised", [
    ({"count": 8, "rate": 1, "widths": (2, 3)}, {"count": 8, "rate": 1.0, "widths": [2, 3]}),
    ({"rate": "1e-3"}, {"rate": 0.001}),  # YAML 1.1 reads 1e-3 as a string
    ({"size": [1, 2]}, {"size": [1, 2]}),
    ({"size": 5}, {"size": 5}),
    ({"levels": {"a": 0}}, {"levels": {"a": 0}}),
    ({"levels": None, "mode": "b", "flag": True}, {"levels": None, "mode": "b", "flag": True}),
])
def test_valid_values_pass_normalised(args, normalised):
    assert check(demo_declaration(), args, "x.args") == normalised


@pytest.mark.parametrize("args, message", [
    ({"count": 0}, "x.args.count: 0 is out of range; valid: an integer 1 to 8"),
    ({"count": 2.0}, "x.args.count: expected an integer, got 2.0 (float); valid: an integer 1 to 8"),
    ({"count": True}, "x.args.count: expected an integer, got True (bool)"),
    ({"rate": 0}, "x.args.rate: 0.0 is out of range; valid: a number in (0, 1]"),
    ({"rate": math.nan}, "x.args.rate: nan is not a finite number"),
    ({"low": math.inf}, "x.args.low: inf is not a finite number"),
    ({"widths": []}, "x.args.widths: 0 items; valid: a list of integers >= 1 (1 to 3 items)"),
    ({"widths": [1, -1]}, "x.args.widths[1]: -1 is out of range; valid: a list of integers >= 1"),
    ({"widths": "8"}, "x.args.widths: expected a list, got '8' (str)"),
    ({"mode": "c"}, "x.args.mode: unknown value 'c'; valid: a, b"),
    ({"size": "x"}, "x.args.size: got 'x' (str); valid: an integer >= 1 or a list of integers"),
    ({"size": 0}, "x.args.size: 0 is out of range"),
    ({"levels": {"a": -1}}, "x.args.levels.a: -1 is out of range; valid: a mapping to integers >= 0"),
    ({"levels": {1: 1}}, "x.args.levels: key 1 is not a string"),
    ({"flag": None}, "x.args.flag: null is not valid; valid: true or false"),
    ({"nope": 1}, "x.args.nope: unknown argument of demo; valid: low, high, count"),
    ({"low": 2.0}, "x.args.low: 2.0 breaks low < high (high is 1.0); valid: low < high"),
])
def test_invalid_values_name_the_full_key_and_the_valid_ones(args, message):
    with pytest.raises(ArgumentError) as error:
        check(demo_declaration(), args, "x.args", what="demo")
    assert str(error.value).startswith(message), str(error.value)


def test_a_declaration_must_fit_its_signature():
    with pytest.raises(TypeError, match="declares \\['b'\\], which it does not take"):
        arguments(b=Arg(int, ""))(lambda a=1: None)
    with pytest.raises(ArgumentError, match="default: 0 is out of range"):
        arguments(a=Arg(int, "", range="[1, inf)"))(lambda a=0: None)
    with pytest.raises(ArgumentError, match="breaks a < b"):
        arguments(rules={"a": "a < b"}, a=Arg(int, ""), b=Arg(int, ""))(lambda a=2, b=1: None)


def test_an_undeclared_callable_is_checked_against_its_signature():
    def fn(context, units=(8,), rate=0.1, name="x", anything=None):
        pass
    declaration = declared(fn, skip=("context",))
    assert check(declaration, {"units": [1, 2], "rate": 1, "anything": [object]}, "k") == \
        {"units": [1, 2], "rate": 1.0, "anything": [object]}
    with pytest.raises(ArgumentError, match="k.units\\[0\\]: expected an integer"):
        check(declaration, {"units": [1.5]}, "k")
    with pytest.raises(ArgumentError, match="k.context: unknown argument"):
        check(declaration, {"context": 1}, "k")


@pytest.mark.parametrize("rule, values, holds", [
    ("task not in steps", {"task": "c", "steps": ["a", "b"]}, True),
    ("task not in steps", {"task": "a", "steps": ["a", "b"]}, False),
    ("task not in steps", {"task": None, "steps": ["a", "b"]}, True),
    ("task in steps", {"task": "b", "steps": ["a", "b"]}, True),
    ("low <= high", {"low": 2.0, "high": 2.0}, True),
])
def test_rules_compare_with_in_and_not_in(rule, values, holds):
    assert evaluate_rule(rule, values) is holds
