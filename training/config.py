"""Experiment configs: typed sections over defaults, YAML files, `--set a.b=c` overrides.

A config has three sections, each a dataclass below (`DataConfig`, `ModelConfig`,
`TrainConfig`): their fields are the valid keys, their defaults the defaults,
their types and `metadata` (ranges, choices) what a value must be. `load_config`
merges defaults <- a YAML file <- overrides and checks every value at once,
before any data or model is built: a wrong key, type, range or choice, or
broken YAML, raises `ConfigError` naming the key and the valid values
(`train.py` prints it as `config error: ...` and exits 2).

The result is a `Config` (`config.train.epochs`), the object every consumer
takes (experiment, trainer, baselines, studies); `Config.to_dict()` is what is
saved as the run's `config.yaml` (and `Config.from_dict` reads one back). Keys whose
value is a free-form mapping (`data.options`, `model.encoder_args`, `model.args`,
`train.weighting_args`, `train.optimizer_args`) hold the arguments of the thing
a name picks; they are checked at load against what that thing declares
(`training/arguments.py`, `utils/arguments.py`), without importing TensorFlow;
`train.loss_options` is checked against the task kinds' loss options
(`training/loss_options.py`; against each task's own kind once the tasks are known).
`--set data.options.train=x` sets one entry of such a mapping and keeps the
others; `--set data.options={...}` replaces the whole mapping.

Example:
>>> from training.config import load_config
>>> cfg = load_config(None, ["train.epochs=1", "data.tasks=[left]"])
>>> cfg.train.epochs, cfg.data.tasks
(1, ['left'])
>>> load_config(None, ["train.epochs=two"])
Traceback (most recent call last):
...
training.config.ConfigError: train.epochs: expected an integer, got 'two' (str)
"""

import copy
import dataclasses
import numbers
import os
import re
from typing import List, Optional

import yaml

from training.arguments import check_config_arguments, check_data_sources
from training.loss_options import check_at_load as check_loss_options
from utils.arguments import ArgumentError


class ConfigError(ValueError):
    pass


def _field(default, *, minimum=None, greater_than=None, choices=None, free_form=False, doc=""):
    metadata = {"minimum": minimum, "greater_than": greater_than, "choices": choices,
                "free_form": free_form, "doc": doc}
    if isinstance(default, (dict, list)):
        return dataclasses.field(default_factory=lambda: copy.deepcopy(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass
class DataConfig:
    """`data:` which dataset, which of its tasks, where it lives."""

    name: str = _field("multi_mnist", doc="a registered dataset: `python train.py --list`")
    options: dict = _field({}, free_form=True, doc="the dataset's options (CSV files, config...)")
    tasks: List[str] = _field([], doc="subset of the dataset's tasks; empty = all")
    auxiliary_tasks: List[str] = _field([], doc="tasks trained only to help the others")
    data_dir: Optional[str] = _field(None, doc="TFDS data_dir; default $TFDS_DATA_DIR or ./tfds_data")
    max_train_examples: Optional[int] = _field(None, minimum=1, doc="first N training examples")
    max_eval_examples: Optional[int] = _field(None, minimum=1, doc="first N validation/test examples")
    shuffle_buffer: int = _field(10000, minimum=1, doc="examples the training shuffle draws from")
    sources: list = _field([], doc="datasets whose tasks train together (a mixture), each "
                           "{dataset, options, tasks, split, name, cache}; empty: data.name alone")
    sampling: dict = _field({}, free_form=True,
                            doc="how training draws from data.sources: strategy, temperature, "
                                "weights, batches, steps_per_epoch")


@dataclasses.dataclass
class ModelConfig:
    """`model:` the architecture and its encoder."""

    architecture: str = _field("shared_bottom", doc="a registered architecture: `python train.py --list`")
    encoder: str = _field("cnn", doc="a registered encoder: `python train.py --list`")
    encoder_args: dict = _field({}, free_form=True,
                                doc="the encoder's arguments: `python train.py --list <encoder>`")
    args: dict = _field({}, free_form=True,
                        doc="the architecture's arguments: `python train.py --list <architecture>`")


@dataclasses.dataclass
class TrainConfig:
    """`train:` the optimisation, the weighting method, checkpoints and stopping."""

    epochs: int = _field(3, minimum=1, doc="passes over the training split")
    batch_size: int = _field(128, minimum=1, doc="examples per step (global, over every replica)")
    optimizer: str = _field("adam", doc="a registered optimizer: `python train.py --list`")
    optimizer_args: dict = _field({}, free_form=True,
                                  doc="its arguments: `python train.py --list <optimizer>`")
    learning_rate: float = _field(1e-3, greater_than=0, doc="the optimizer's step size")
    seed: int = _field(42,
                       doc="seeds the weights and the data order (epoch k shuffles with seed + k)")
    weighting: str = _field("equal", doc="a method: `python train.py --list`")
    weighting_args: dict = _field({}, free_form=True,
                                  doc="its arguments (e.g. {c: 0.4} for cagrad): "
                                      "`python train.py --list <method>`")
    gradient_on: Optional[str] = _field(
        None, choices=("representation", "parameters"),
        doc="where methods that use per-task gradients take them; default representation")
    task_weights: dict = _field({}, free_form=True, doc="per-task weights (weighting: static)")
    monitor: str = _field("val_loss", doc="val_loss or val_<task>_<metric>")
    monitor_mode: str = _field("auto", choices=("auto", "min", "max"),
                               doc="auto: the direction the monitored metric's task gives it")
    early_stopping_patience: int = _field(0, minimum=0, doc="0 = off")
    primary_metrics: dict = _field({}, free_form=True,
                                   doc="per task, the metric Δm and studies rank by")
    loss_options: dict = _field({}, free_form=True,
                                doc="per task, options of its kind's loss (pos_weight, "
                                    "class_weights, focal_gamma): `python train.py --list <kind>`")
    diagnostics_per_epoch: int = _field(4, minimum=0,
                                        doc="sampled steps per epoch for gradient cosines")
    affinity_per_epoch: int = _field(1, minimum=0, doc="sampled steps per epoch for task affinity")
    gate_diagnostics: bool = _field(True, doc="gate weights and entropy (and a "
                                                  "learning_to_branch tree) each epoch")


SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}


@dataclasses.dataclass
class Config:
    """A whole experiment config, typed: what `load_config` returns and every consumer takes.

    `to_dict()` is the saved `config.yaml` (nested plain mappings, one per section);
    `from_dict` reads one back (a run's `config.yaml`, a study's `study_config.yaml`).
    """

    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)

    def to_dict(self):
        return {name: dataclasses.asdict(getattr(self, name)) for name in SECTIONS}

    @classmethod
    def from_dict(cls, sections):
        """From checked nested mappings (`check_types`' output)."""
        return cls(**{name: section(**copy.deepcopy(sections[name]))
                      for name, section in SECTIONS.items()})

    def replace(self, **sections):
        """A copy with some fields changed, per section: `replace(train={"epochs": 1})`."""
        copied = copy.deepcopy(self)
        changed = {name: dataclasses.replace(getattr(copied, name), **copy.deepcopy(fields))
                   for name, fields in sections.items()}
        return dataclasses.replace(copied, **changed)


def field_docs():
    """{"section.key": (field, its one line of meaning)} for every config key, in order:
    what `python train.py --list config` prints and the docs' config reference reads."""
    return {f"{name}.{f.name}": (f, f.metadata["doc"])
            for name, section in SECTIONS.items() for f in dataclasses.fields(section)}
DEFAULTS = {name: dataclasses.asdict(cls()) for name, cls in SECTIONS.items()}
FREE_FORM = {(s, f.name) for s, cls in SECTIONS.items() for f in dataclasses.fields(cls)
             if f.metadata["free_form"]}
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _merge(base, override, path=(), merge_free=False):
    for key, value in override.items():
        where = ".".join(path + (str(key),))
        if key not in base:
            raise ConfigError(f"unknown config key {where!r}; valid keys"
                              f"{' under ' + '.'.join(path) if path else ''}: "
                              f"{', '.join(sorted(base))}")
        if isinstance(base[key], dict) and path + (key,) not in FREE_FORM:
            if not isinstance(value, dict):
                raise ConfigError(f"config key {where!r} must be a mapping with keys: "
                                  f"{', '.join(sorted(base[key]))}")
            _merge(base[key], value, path + (key,), merge_free)
        elif path + (key,) in FREE_FORM:
            if value is None:
                base[key] = {}
            elif not isinstance(value, dict):
                raise ConfigError(f"{where}: expected a mapping, got {value!r}")
            elif merge_free:
                _deep_update(base[key], copy.deepcopy(value))
            else:
                base[key] = copy.deepcopy(value)
        else:
            base[key] = value


def _deep_update(target, update):
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_update(target[key], value)
        else:
            target[key] = value


def _yaml(text, where):
    """Parses YAML; a syntax error names `where`, the line and the column."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"{where}{at}: invalid YAML: {problem}") from None


def parse_override(text):
    """`a.b=c` -> ({"a": {"b": c}}); the value is parsed as YAML (numbers, lists...)."""
    if "=" not in text:
        raise ConfigError(f"--set expects key=value, got {text!r}")
    key, raw = text.split("=", 1)
    value = _yaml(raw, f"--set {text}") if raw.strip() else None
    out = {}
    node = out
    parts = key.strip().split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return out


def _type_name(annotation):
    return {int: "an integer", float: "a number", str: "a string", dict: "a mapping",
            bool: "true or false", list: "a list"}.get(annotation, "a list of strings")


def _check_field(section, field, value):
    """Returns the value (a float field takes YAML's '1e-3' string), or raises ConfigError."""
    where = f"{section}.{field.name}"
    annotation = field.type
    optional = getattr(annotation, "__origin__", None) is not None and type(None) in getattr(
        annotation, "__args__", ())
    if optional:
        annotation = next(a for a in annotation.__args__ if a is not type(None))
    if value is None:
        if optional:
            return None
        raise ConfigError(f"{where}: expected {_type_name(annotation)}, got null")
    got = f"got {value!r} ({type(value).__name__})"
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ConfigError(f"{where}: expected an integer, {got}")
    elif annotation is float:
        if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
            value = float(value)  # YAML 1.1 reads 1e-3 (no dot) as a string
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ConfigError(f"{where}: expected a number, {got}")
        value = float(value)
    elif annotation in (str, bool, dict, list):
        if not isinstance(value, annotation):
            raise ConfigError(f"{where}: expected {_type_name(annotation)}, {got}")
    elif getattr(annotation, "__origin__", None) is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: expected a list of strings, {got}")
    meta = field.metadata
    if meta["minimum"] is not None and value < meta["minimum"]:
        raise ConfigError(f"{where}: must be >= {meta['minimum']}, got {value!r}")
    if meta["greater_than"] is not None and not value > meta["greater_than"]:
        raise ConfigError(f"{where}: must be > {meta['greater_than']}, got {value!r}")
    if meta["choices"] and value not in meta["choices"]:
        raise ConfigError(f"{where}: unknown value {value!r}; valid values: "
                          f"{', '.join(meta['choices'])}")
    return value


def check_types(config):
    """Checks (and normalises) every value of a merged config against its section's dataclass."""
    for section, cls in SECTIONS.items():
        for field in dataclasses.fields(cls):
            config[section][field.name] = _check_field(section, field,
                                                       config[section][field.name])
    weights = config["train"]["task_weights"]
    for task, weight in weights.items():
        if isinstance(weight, bool) or not isinstance(weight, numbers.Real) or weight < 0:
            raise ConfigError(f"train.task_weights.{task}: expected a number >= 0, got {weight!r}")
    return config


def dotted(values):
    """{"a.b": v} -> {"a": {"b": v}} for `load_config(values=...)`."""
    out = {}
    for key, value in values.items():
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = copy.deepcopy(value)
    return out


def load_config(path=None, overrides=(), values=None):
    """Defaults <- YAML file <- `--set` overrides <- `values` ({dotted key: value}, as a
    study's cells give them), with strict keys and typed values."""
    config = copy.deepcopy(DEFAULTS)
    if path:
        if not os.path.exists(path):
            raise ConfigError(f"config file not found: {path}")
        with open(path) as f:
            loaded = _yaml(f.read(), path) or {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: a config must be a YAML mapping")
        _merge(config, loaded)
    for text in overrides:
        override = parse_override(text)
        # `--set data.options.train=x` sets one option and keeps the others; a whole
        # mapping (`--set model.encoder_args={units: [8]}`) replaces the old one.
        depth = len(text.split("=", 1)[0].strip().split("."))
        _merge(config, override, merge_free=depth > 2)
    for key, value in (values or {}).items():
        _merge(config, dotted({key: value}), merge_free=len(key.split(".")) > 2)
    tasks = config["data"]["tasks"]
    if tasks is None:
        config["data"]["tasks"] = []
    elif isinstance(tasks, str):
        config["data"]["tasks"] = [t.strip() for t in tasks.split(",") if t.strip()]
    check_types(config)
    try:
        check_config_arguments(config)
        check_data_sources(config)
        config["train"]["loss_options"] = check_loss_options(config["train"]["loss_options"])
    except ArgumentError as e:
        raise ConfigError(str(e)) from None
    return Config.from_dict(config)


def save_config(config, path):
    """Writes a `Config` as YAML (the run's `config.yaml`)."""
    with open(path, "w") as f:
        yaml.safe_dump(config.to_dict(), f, sort_keys=False)
