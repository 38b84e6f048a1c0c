"""Experiment configs: YAML files over defaults, `--set a.b=c` overrides, strict keys.

Every key has a default here; a YAML file or an override that names a key not
in the defaults fails with the list of valid keys at that level. Keys whose
value is a free-form mapping (`data.options`, `model.encoder_args`,
`model.args`, `train.task_weights`, `train.weighting_args`) accept any sub-key;
their consumers validate them. `--set data.options.train=x` sets one entry of such a
mapping and keeps the others; `--set data.options={...}` replaces the whole mapping.

Example:
>>> from training.config import load_config
>>> cfg = load_config(None, ["train.epochs=1", "data.tasks=[left]"])
>>> cfg["train"]["epochs"], cfg["data"]["tasks"]
(1, ['left'])
"""

import copy
import os

import yaml

DEFAULTS = {
    "data": {
        "name": "multi_mnist",      # a registered dataset: `python train.py --list`
        "options": {},              # dataset factory options (e.g. CSV files, builder config)
        "tasks": [],                # subset of the dataset's tasks; empty = all
        "data_dir": None,           # TFDS data_dir; default $TFDS_DATA_DIR or ./tfds_data
        "max_train_examples": None,  # take the first N training examples (quick runs)
        "max_eval_examples": None,  # take the first N validation/test examples
        "shuffle_buffer": 10000,
    },
    "model": {
        "architecture": "shared_bottom",
        "encoder": "cnn",
        "encoder_args": {},
        "args": {},
    },
    "train": {
        "epochs": 3,
        "batch_size": 128,
        "optimizer": "adam",
        "learning_rate": 1e-3,
        "seed": 42,
        "weighting": "equal",       # a method: `python train.py --list`
        "weighting_args": {},       # its arguments (e.g. {c: 0.4} for cagrad)
        "gradient_on": "representation",  # per-task gradients for gradient methods:
                                    # representation (cheap) or parameters
        "task_weights": {},         # static weights per task (weighting: static)
        "monitor": "val_loss",      # val_loss or val_<task>_<metric>
        "monitor_mode": "auto",     # min, max or auto (max for accuracy/auc/f1)
        "early_stopping_patience": 0,  # 0 = off
    },
}

FREE_FORM = {("data", "options"), ("model", "encoder_args"), ("model", "args"),
             ("train", "task_weights"), ("train", "weighting_args")}


class ConfigError(ValueError):
    pass


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
                raise ConfigError(f"config key {where!r} must be a mapping")
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


def parse_override(text):
    """`a.b=c` -> ({"a": {"b": c}}); the value is parsed as YAML (numbers, lists...)."""
    if "=" not in text:
        raise ConfigError(f"--set expects key=value, got {text!r}")
    key, raw = text.split("=", 1)
    value = yaml.safe_load(raw) if raw.strip() else None
    out = {}
    node = out
    parts = key.strip().split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return out


def load_config(path=None, overrides=()):
    """Defaults <- YAML file <- overrides, with strict key checking."""
    config = copy.deepcopy(DEFAULTS)
    if path:
        if not os.path.exists(path):
            raise ConfigError(f"config file not found: {path}")
        with open(path) as f:
            loaded = yaml.safe_load(f) or {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: a config must be a YAML mapping")
        _merge(config, loaded)
    for text in overrides:
        override = parse_override(text)
        # `--set data.options.train=x` sets one option and keeps the others; a whole
        # mapping (`--set model.encoder_args={units: [8]}`) replaces the old one.
        depth = len(text.split("=", 1)[0].strip().split("."))
        _merge(config, override, merge_free=depth > 2)
    tasks = config["data"]["tasks"]
    if isinstance(tasks, str):
        config["data"]["tasks"] = [t.strip() for t in tasks.split(",") if t.strip()]
    return config


def save_config(config, path):
    with open(path, "w") as f:
        yaml.safe_dump(config, f, sort_keys=False)
