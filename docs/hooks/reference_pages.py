"""Reference pages generated from the code at docs build time (an mkdocs hook).

`mkdocs.yml` names this file under `hooks:`. On every build `on_files` adds each page of
`PAGES` to the site from memory, so no generated Markdown is committed and none can go
stale; a committed file at a generated path fails the build (it would shadow the page).

A page is one function that returns Markdown. To add one (say, every architecture's
arguments once they declare them), write `def architectures_page(): ...` here, using
`table` for its tables, add `"reference/architectures.md": architectures_page` to `PAGES`
and the path to `nav:` in `mkdocs.yml`; `tests/docs/test_site.py` builds the site strictly.

Example:
>>> page = config_page()
>>> row = next(line for line in page.splitlines() if line.startswith("| `train.epochs`"))
>>> row.startswith("| `train.epochs` | integer | `3` | >= 1 | ")   # key, type, default, range, doc
True
>>> text("val_<task>_<metric>, or `val_<task>_<metric>`")
'val_&lt;task&gt;_&lt;metric&gt;, or `val_<task>_<metric>`'
>>> print(table(["a", "b"], [["x|y", "z"]]))
| a | b |
| --- | --- |
| x\\|y | z |
"""

import contextlib
import dataclasses
import importlib.util
import io
import os
import sys
import typing

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_TYPE_LABELS = {int: "integer", float: "number", str: "string", bool: "true or false",
                dict: "mapping"}


def table(header, rows):
    """A Markdown table; a `|` inside a cell is escaped, line breaks become spaces."""
    def cell(value):
        return " ".join(str(value).split()).replace("|", "\\|")
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def text(docstring):
    """Markdown for plain text: `<` and `>` outside code spans are escaped, not taken as HTML."""
    parts = docstring.split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("<", "&lt;").replace(">", "&gt;")
    return "`".join(parts)


def _type_label(annotation):
    """`int` -> integer, `Optional[str]` -> string or null, `List[str]` -> list of strings."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Union and type(None) in args:
        inner = next(a for a in args if a is not type(None))
        return _type_label(inner) + " or null"
    if typing.get_origin(annotation) is list:
        return "list of " + (_type_label(args[0]) + "s" if args else "values")
    return _TYPE_LABELS.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _default(field):
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return field.default


def _allowed(metadata):
    """The range or choices a value must meet, from the field's metadata."""
    parts = []
    if metadata.get("minimum") is not None:
        parts.append(f">= {metadata['minimum']}")
    if metadata.get("greater_than") is not None:
        parts.append(f"> {metadata['greater_than']}")
    if metadata.get("choices"):
        parts.append(", ".join(f"`{c}`" for c in metadata["choices"]))
    if metadata.get("free_form"):
        parts.append("any keys (checked by what reads them)")
    return "; ".join(parts)


def config_rows(section, cls):
    """One row per field of a config dataclass, whether or not it has a doc."""
    from utils.arguments import yaml_text  # a default as a config file writes it
    hints = typing.get_type_hints(cls)
    rows = []
    for field in dataclasses.fields(cls):
        doc = (text(field.metadata.get("doc") or "")
               or "(no description yet: add `doc=` in training/config.py)")
        rows.append([f"`{section}.{field.name}`", _type_label(hints[field.name]),
                     f"`{yaml_text(_default(field))}`", _allowed(field.metadata), doc])
    return rows


def _module_intro(module):
    """A module docstring up to its `Example:`, as Markdown paragraphs."""
    return text((module.__doc__ or "").split("Example:")[0].strip())


def config_page(sections=None):
    """The config reference: every key of every section of `training/config.py`."""
    import training.config as config_module
    sections = config_module.SECTIONS if sections is None else sections
    out = ["# Config keys",
           "Generated from `training/config.py` when the site is built: each section's "
           "dataclass, each field's `doc`, default and range or choices. Explained with "
           "examples in [Training and configs](../guide/training.md#configs).",
           _module_intro(config_module)]
    for section, cls in sections.items():
        out += [f"## `{section}:`", text((cls.__doc__ or "").strip()),
                table(["key", "type", "default", "allowed", "meaning"],
                      config_rows(section, cls))]
    return "\n\n".join(out) + "\n"


# The command a reader types -> the file whose `main(argv)` parses its flags.
SCRIPTS = {"train.py": "train.py", "build_data.py": "build_data.py",
           "evaluate.py": "evaluate.py", "export.py": "export.py",
           "serve.py": "serve.py", "predict.py": "predict.py", "study.py": "study.py",
           "report.py": "report.py", "python -m data.csv_schema": "data/csv_schema/cli.py",
           "results/funnel/measure.py": "results/funnel/measure.py"}


def script_help(path):
    """What `python <path> --help` prints, 100 columns wide, without running the script."""
    name = os.path.basename(path)
    spec = importlib.util.spec_from_file_location(f"_docs_{name[:-3]}", os.path.join(ROOT, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out, saved = io.StringIO(), (sys.argv[0], os.environ.get("COLUMNS"))
    sys.argv[0], os.environ["COLUMNS"] = name, "100"
    try:
        with contextlib.redirect_stdout(out):
            module.main(["--help"])
    except SystemExit as e:
        if e.code not in (0, None):
            raise RuntimeError(f"{path} --help exited with {e.code}") from None
    else:
        raise RuntimeError(f"{path}: main(['--help']) returned instead of printing its flags")
    finally:
        sys.argv[0] = saved[0]
        os.environ.pop("COLUMNS") if saved[1] is None else os.environ.update(COLUMNS=saved[1])
    return out.getvalue()


def scripts_page(scripts=None):
    """Every entry script's flags: its own `--help`, so the page cannot drift from the code."""
    out = ["# Scripts and flags",
           "Generated when the site is built from each script's `--help` (its argparse parser "
           "and docstring). Every script runs from the repository root with "
           "`.venv/bin/python`. Config keys: [Config keys](config.md); the server's "
           "routes: [Serving API](serving-api.md); the benchmark scripts: "
           "[Benchmarks](../benchmarks.md)."]
    for command, path in (SCRIPTS if scripts is None else scripts).items():
        out += [f"## `{command}`", "```text\n" + script_help(path).rstrip() + "\n```"]
    return "\n\n".join(out) + "\n"


# Generated page path (under docs/) -> the function that writes it.
def arguments_page():
    """Every registered thing's declared arguments (`training/arguments.py`), as
    `python train.py --list NAME` prints them."""
    from training.arguments import markdown
    return "\n\n".join([
        "# Arguments",
        "Generated when the site is built from the declarations beside each architecture, "
        "encoder, weighting method, optimizer, dataset and task kind (`@arguments(...)`, "
        "`utils/arguments.py`): the type, valid values, default and meaning of every "
        "argument, and the rules between arguments. A config is checked against them when it "
        "loads, before TensorFlow starts: a bad value prints `config error: <key>: <what is "
        "wrong>; valid: <values>` and exits 2. `python train.py --list NAME` prints one "
        "thing's table in the terminal.",
        markdown()]) + "\n"


PAGES = {"reference/config.md": config_page, "reference/arguments.md": arguments_page,
         "reference/scripts.md": scripts_page}


def on_config(config):
    """Lets the page functions import the project (mkdocs puts only its own folder on the path)."""
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    return config


def on_files(files, config):
    """Adds every page of `PAGES`; a committed copy of one is an error."""
    from mkdocs.exceptions import PluginError
    from mkdocs.structure.files import File

    for path, make_page in PAGES.items():
        if files.get_file_from_path(path) is not None:
            raise PluginError(f"docs/{path} is generated by docs/hooks/reference_pages.py "
                              f"({make_page.__name__}); delete the committed copy")
        files.append(File.generated(config, path, content=make_page()))
    return files
