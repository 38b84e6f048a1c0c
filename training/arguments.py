"""The config keys that hold a named thing's arguments, checked at load against what it declares.

| arguments key          | the name's key       | declared in                 |
|------------------------|----------------------|-----------------------------|
| `model.args`           | `model.architecture` | `models/architectures/*.py` |
| `model.encoder_args`   | `model.encoder`      | `models/encoders.py`        |
| `train.weighting_args` | `train.weighting`    | `training/weighting/*.py`   |
| `train.optimizer_args` | `train.optimizer`    | `training/optimizers.py`    |
| `data.options`         | `data.name`          | `data/*.py`                 |

Task kinds declare the options of their loss (`train.loss_options.<task>`) as a
`loss_options` class attribute. A task's kind is known only with the dataset's tasks,
so `training/loss_options.py` checks each option at load against the kinds that declare
it, and each task's options against its own kind once the tasks are known
(`training.setup.TrainSetup`), before any data or model work.

Each registered thing declares its arguments with `utils.arguments.arguments` where
it is defined. `check_config_arguments` runs inside `load_config`: an unknown name
lists the known ones; a bad argument fails with `<full key>: <what is wrong>; valid:
<range or choices>`. The declarations are read from the source files
(`utils/static_arguments.py`), so a config error comes before TensorFlow is even
imported; the registries hold the same declarations once their modules are imported
(`tests/training/test_arguments.py` checks they agree, name by name).

`describe(name)` is what `python train.py --list NAME` prints; `markdown()` renders
every registered thing's arguments for the documentation.

Example:
>>> from training.arguments import SECTIONS, check_config_arguments, describe
>>> config = {"model": {"architecture": "mmoe", "args": {"num_experts": 0}}}
>>> check_config_arguments(config, sections=[SECTIONS[0]])
Traceback (most recent call last):
...
utils.arguments.ArgumentError: model.args.num_experts: 0 is out of range; valid: an integer 1 to 10000000
>>> print("\\n".join(describe("mmoe").splitlines()[:3]))
architecture mmoe (model.architecture: mmoe; arguments in model.args)
  num_experts: an integer 1 to 10000000; default 4
      experts shared by all tasks; at most 10^7: each is a network of >= 60 KB, so more cannot fit in memory
"""

import dataclasses
import functools
import importlib
import os

from utils.arguments import ArgumentError, check, declared, markdown as declaration_markdown, text
from utils.static_arguments import read_declarations

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclasses.dataclass(frozen=True)
class Section:
    """One arguments key: where its thing's name is, and where the things are declared.

    Attributes:
        key: str. The arguments key ("model.args").
        name_key: str. The key naming the thing ("model.architecture").
        kind: str. What is named ("architecture"), `plural` for messages.
        sources: tuple of str. Globs of the modules that register and declare them, or
            (with `register` None) the registry module whose literal table names them.
        register: str or None. The name of the registering decorator; None: a table.
        registry: str. "module:ATTRIBUTE" of the `utils.registry.Registry`.
        reserved: tuple of str. Parameters the framework passes, not the config.
    """

    key: str
    name_key: str
    kind: str
    plural: str
    sources: tuple
    register: str
    registry: str
    reserved: tuple = ()

    def registry_object(self):
        """The runtime registry (imports its modules, and with them TensorFlow)."""
        module, attribute = self.registry.split(":")
        return getattr(importlib.import_module(module), attribute)

    def runtime_declarations(self):
        """{name: {argument: Arg}} from the imported registry."""
        return {name: declared(obj, self.reserved) for name, obj in
                self.registry_object().items()}


SECTIONS = (
    Section("model.args", "model.architecture", "architecture", "architectures",
            ("models/registry.py",), None,
            "models.registry:ARCHITECTURES", ("features", "tasks", "make_encoder")),
    Section("model.encoder_args", "model.encoder", "encoder", "encoders",
            ("models/encoders.py",), "register_encoder", "models.encoders:ENCODERS",
            ("input_shape", "model_name")),
    Section("train.weighting_args", "train.weighting", "method", "methods",
            ("training/weighting/*.py",), "register_weighting",
            "training.weighting:WEIGHTINGS", ("tasks", "task_weights")),
    Section("train.optimizer_args", "train.optimizer", "optimizer", "optimizers",
            ("training/optimizers.py",), "register_optimizer", "training.optimizers:OPTIMIZERS",
            ("learning_rate",)),
    Section("data.options", "data.name", "dataset", "datasets", ("data/registry.py",),
            None, "data.registry:DATASETS"),
)


@functools.lru_cache(maxsize=None)
def static_declarations(section):
    """{name: {argument: Arg} or None} read from `section`'s source files."""
    return read_declarations(section.sources, section.register, REPO)


def declarations(section, name):
    """{argument: Arg} of thing `name`; an unknown name lists the known ones."""
    found = static_declarations(section)
    if name not in found:
        raise ArgumentError(f"{section.name_key}: unknown {section.kind} {name!r}; known "
                            f"{section.plural}: {', '.join(sorted(found))}")
    if found[name] is None:  # registered without a declaration: infer from its signature
        return declared(section.registry_object().get(name), section.reserved)
    return found[name]


def _get(config, key):
    section, field = key.split(".")
    return config.get(section, {}).get(field)


def check_config_arguments(config, sections=SECTIONS):
    """Checks every arguments key of `config` (nested mappings) and normalises it in place;
    returns `config`. Raises ArgumentError (a ValueError) naming the key."""
    for section in sections:
        name = _get(config, section.name_key)
        declaration = declarations(section, name)
        where, field = section.key.split(".")
        config[where][field] = check(declaration, _get(config, section.key) or {}, section.key,
                                     what=f"{section.kind} {name!r}")
    return config


def check_data_sources(config):
    """`data.sources` (each entry, and each source's dataset options against what the
    dataset declares) and `data.sampling`, checked and normalised in place; ArgumentError
    naming the key."""
    from data.mixture import SOURCE, source_names
    from data.sampling import SAMPLING

    data = config["data"]
    sources = data.get("sources") or []
    if sources and data.get("options"):
        raise ArgumentError("data.options: with data.sources each source takes its own options; "
                            "valid: data.sources[i].options")
    data["sources"] = [_check_source(entry, f"data.sources[{i}]", SOURCE)
                       for i, entry in enumerate(sources)]
    names = source_names(data["sources"])
    if len(set(names)) != len(names):
        raise ArgumentError(f"data.sources: two sources are named alike ({', '.join(names)}); "
                            "valid: a distinct `name` for each")
    data["sampling"] = check(SAMPLING, data.get("sampling") or {}, "data.sampling")
    unknown = sorted(set(data["sampling"].get("weights") or {}) - set(names))
    if unknown:
        raise ArgumentError(f"data.sampling.weights: unknown source(s) {unknown}; valid: "
                            f"{', '.join(names) or '(no data.sources)'}")
    if data["sampling"].get("strategy") == "weights":
        missing = [n for n in names if n not in (data["sampling"].get("weights") or {})]
        if missing or not names:
            raise ArgumentError(f"data.sampling.weights: weights sampling needs a weight for "
                                f"every source; missing: {missing or 'all (no data.sources)'}")
    return config


def _check_source(entry, where, declaration):
    if not isinstance(entry, dict):
        raise ArgumentError(f"{where}: expected a mapping; valid keys: {', '.join(declaration)}")
    entry = check(declaration, entry, where, what="a source")
    section = next(s for s in SECTIONS if s.key == "data.options")
    known = static_declarations(section)
    if entry["dataset"] not in known:
        raise ArgumentError(f"{where}.dataset: unknown dataset {entry['dataset']!r}; known "
                            f"datasets: {', '.join(sorted(known))}")
    entry["options"] = check(declarations(section, entry["dataset"]), entry.get("options") or {},
                             f"{where}.options", what=f"dataset {entry['dataset']!r}")
    return entry


def find(name):
    """[(section, declaration)] of every registered thing called `name`."""
    return [(s, declarations(s, name)) for s in SECTIONS if name in static_declarations(s)]


def task_kinds():
    """{kind: its loss options' declaration} (`train.loss_options.<task>`; the kinds are
    known once a dataset's tasks are, so these are checked when the experiment starts)."""
    from tasks.registry import TASK_KINDS
    return {name: cls.loss_options for name, cls in TASK_KINDS.items()}


def describe(name):
    """The arguments of registered thing `name` as text (`python train.py --list NAME`)."""
    found = find(name)
    kinds = task_kinds()
    if not found and name not in kinds:
        known = sorted({n for s in SECTIONS for n in static_declarations(s)} | set(kinds))
        raise ArgumentError(f"--list: nothing registered as {name!r}; known: {', '.join(known)}")
    blocks = []
    for section, declaration in found:
        blocks.append("\n".join([f"{section.kind} {name} ({section.name_key}: {name}; "
                                 f"arguments in {section.key})"] + text(declaration)))
    if name in kinds:
        blocks.append("\n".join([f"task kind {name} (loss options in "
                                 f"train.loss_options.<task>)"] + text(kinds[name])))
    return "\n\n".join(blocks)


def markdown():
    """Every registered thing's arguments as Markdown: a heading per arguments key, a
    sub-heading and a table per thing. The docs' reference page is this text."""
    parts = []
    for section in SECTIONS:
        parts.append(f"## {section.plural.capitalize()} (`{section.name_key}`, arguments in "
                     f"`{section.key}`)\n")
        for name in sorted(static_declarations(section)):
            parts.append(f"### `{name}`\n\n{declaration_markdown(declarations(section, name))}")
    parts.append("## Task kinds (loss options in `train.loss_options.<task>`)\n\n"
                 "A task's kind comes with the dataset's tasks, so each option is checked "
                 "when the config loads against the kinds that declare it, and against the "
                 "task's own kind when the experiment starts (before any data is read).\n")
    for name, declaration in sorted(task_kinds().items()):
        parts.append(f"### `{name}`\n\n{declaration_markdown(declaration)}")
    return "\n".join(parts)
