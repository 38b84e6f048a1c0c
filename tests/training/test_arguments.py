"""Every registered thing's declared arguments, checked at config load: the declarations
read from source equal the imported ones, cover every parameter, and a fuzz of every
declared argument either loads or fails as a config error naming the key; a sample of
accepted draws trains a step (slow)."""

import math
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import train
from tests.helpers import REPO
from tasks import Task
from training.arguments import SECTIONS, describe, markdown, static_declarations
from training.config import ConfigError, load_config
from training.loss_options import kinds_by_option, resolve as resolve_loss_options
from utils.arguments import ArgumentError

DECLARED = [(section, name, arg) for section in SECTIONS
            for name, declaration in sorted(static_declarations(section).items())
            for arg in declaration]


def ids(case):
    section, name, arg = case
    return f"{name}.{arg}"


@pytest.mark.parametrize("section", SECTIONS, ids=lambda s: s.kind)
def test_the_declarations_read_from_source_are_the_registered_ones(section):
    static = static_declarations(section)
    runtime = section.runtime_declarations()
    assert sorted(static) == sorted(runtime)
    for name, declaration in runtime.items():
        assert static[name] is not None, f"{section.kind} {name!r} declares no arguments"
        assert static[name] == declaration and static[name].rules == declaration.rules, name


@pytest.mark.parametrize("section", SECTIONS, ids=lambda s: s.kind)
def test_every_parameter_is_declared_with_a_meaning(section):
    import inspect
    for name, obj in section.registry_object().items():
        fn = obj.__init__ if isinstance(obj, type) else obj
        params = [p for p, v in inspect.signature(fn).parameters.items()
                  if p != "self" and p not in section.reserved
                  and v.kind not in (v.VAR_POSITIONAL, v.VAR_KEYWORD)]
        declaration = obj.__dict__["declared_arguments"]
        assert list(declaration) == params, f"{section.kind} {name}"
        assert all(a.doc for a in declaration.values()), f"{section.kind} {name}"


# --------------------------------------------------------------------- the fuzz
def near(arg):
    """Numbers at and around the ends of the argument's range."""
    from utils.arguments import Interval
    points = [0, 1, -1, 2 ** 31, -(2 ** 31), 0.5, 1e-9, -1e-9, 1e300]
    if arg.range:
        interval = Interval.parse(arg.range)
        for end in (interval.low, interval.high):
            if math.isfinite(end):
                points += [end, end - 1, end + 1, end - 1e-9, end + 1e-9, int(end)]
    return st.sampled_from(points)


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10 ** 12, 10 ** 12),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12))


def values(arg):
    """Wrong types, boundary and out-of-range numbers, empty and huge lists, unknown
    choices, mappings with odd keys and values."""
    scalar = st.one_of(SCALARS, near(arg), st.sampled_from(list(arg.choices or ["x"])))
    return st.one_of(
        scalar,
        st.lists(scalar, max_size=4),
        st.lists(near(arg), min_size=500, max_size=500),
        st.dictionaries(st.one_of(st.text(max_size=6), st.integers()), scalar, max_size=3),
        st.lists(st.lists(scalar, max_size=2), max_size=2))


# Required arguments (no default), given so that a draw for another argument is tested alone.
CUSTOMERS = {"train": "examples/customers.csv", "labels": {"churned": "binary"}}
REQUIRED = {"csv": CUSTOMERS, "table": CUSTOMERS,
            "conll2000": {"path": "tests/data/fixtures/conll2000"},
            "conll": {"train": "tests/data/fixtures/conll2000/train.txt",
                      "columns": ["token", "pos", "chunk"], "tasks": {"pos": "pos"}}}


def load(section, name, args):
    given = {**REQUIRED.get(name, {}), **args} if section.kind == "dataset" else args
    return load_config(None, values={section.name_key: name, section.key: given})


@pytest.mark.parametrize("case", DECLARED, ids=ids)
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzz_each_argument_loads_or_fails_naming_its_key(case, data):
    section, name, arg = case
    declaration = static_declarations(section)[name]
    value = data.draw(values(declaration[arg]), label=arg)
    try:
        config = load(section, name, {arg: value})
    except ConfigError as e:
        message = str(e)
        assert message.startswith(f"{section.key}.") and arg in message, message
        assert "; valid: " in message, message
        return
    where, field = section.key.split(".")
    accepted = getattr(getattr(config, where), field)[arg]
    assert declaration[arg].check(accepted, "again") == accepted  # stable once normalised


@settings(max_examples=60, deadline=None)
@given(section=st.sampled_from(SECTIONS), name=st.text(max_size=10))
def test_fuzz_unknown_names_are_config_errors_listing_the_known(section, name):
    known = static_declarations(section)
    if name in known:
        return
    with pytest.raises(ConfigError, match=f"^{section.name_key}: unknown {section.kind} .*; "
                                          f"known {section.plural}: "):
        load(section, name, {})


@settings(max_examples=60, deadline=None)
@given(case=st.sampled_from([(s, n) for s in SECTIONS for n in static_declarations(s)]),
       arg=st.text(min_size=1, max_size=10))
def test_fuzz_unknown_arguments_are_config_errors_listing_the_valid(case, arg):
    section, name = case
    if arg in static_declarations(section)[name]:
        return
    with pytest.raises(ConfigError) as error:
        load(section, name, {arg: 1})
    assert str(error.value).startswith(f"{section.key}.{arg}: unknown argument of ")
    assert "; valid: " in str(error.value)


# ------------------------------------------------------------- loss options (fuzz)
# One task of every kind: `train.loss_options.<task>` is checked against the kinds that
# declare each option at load, and against the task's own kind once the tasks are known.
LOSS_TASKS = (Task("digit", "multiclass", ("0", "1", "2")), Task("big", "binary"),
              Task("tags", "multilabel", ("a", "b")), Task("value", "regression"),
              Task("tag", "token_multiclass", ("X", "Y", "Z")))
LOSS_OPTIONS = kinds_by_option()
TASK_NAMES = st.one_of(st.sampled_from([t.name for t in LOSS_TASKS]), st.text(max_size=8),
                       st.integers(-3, 3))


def loss_options_error(options, key):
    """The config error `options` (`train.loss_options`) give, loaded then resolved against
    LOSS_TASKS, or None when they fit; asserts that an error names `key` and the valid values
    and is a config error (never another exception)."""
    try:
        config = load_config(None, values={"train.loss_options": options})
        resolve_loss_options(config.train.loss_options, LOSS_TASKS)
    except (ConfigError, ArgumentError) as e:
        message = str(e)
        assert message.startswith(key) and "; valid: " in message, message
        return message
    return None


@pytest.mark.parametrize("option", sorted(LOSS_OPTIONS))
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzz_each_loss_option_loads_or_fails_naming_its_key(option, data):
    task = data.draw(st.sampled_from(LOSS_TASKS), label="task")
    arg = next(iter(LOSS_OPTIONS[option].values()))
    value = data.draw(values(arg), label=option)
    key = f"train.loss_options.{task.name}.{option}"
    if loss_options_error({task.name: {option: value}}, key) is None:
        accepted = load_config(None, values={"train.loss_options": {task.name: {option: value}}})
        assert arg.check(accepted.train.loss_options[task.name][option], "again") == \
            accepted.train.loss_options[task.name][option]  # stable once normalised
        assert option in task.loss_options


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(task=TASK_NAMES, entry=st.one_of(
    st.none(), SCALARS, st.lists(SCALARS, max_size=2),
    st.dictionaries(st.one_of(st.sampled_from(sorted(LOSS_OPTIONS)), st.text(max_size=8)),
                    SCALARS, min_size=1, max_size=1)))
def test_fuzz_loss_options_of_unknown_tasks_and_options_fail_naming_the_key(task, entry):
    names = [t.name for t in LOSS_TASKS]
    message = loss_options_error({task: entry}, f"train.loss_options.{task}")
    if task not in names and entry is not None:
        assert message is not None  # an unknown task never passes silently
    if isinstance(entry, dict) and message is None:
        option = next(iter(entry))
        assert option in LOSS_OPTIONS
    if isinstance(entry, dict) and next(iter(entry)) not in LOSS_OPTIONS and message:
        assert "unknown loss option" in message or "not a task name" in message or \
            "unknown task" in message


# --------------------------------------------------------------- as a user sees it
@pytest.mark.parametrize("override, message", [
    (["model.architecture=mmoe", "model.args.num_experts=0"],
     "model.args.num_experts: 0 is out of range; valid: an integer 1 to 10000000"),
    (["model.args.tower_units=[-1]"],
     "model.args.tower_units[0]: -1 is out of range; valid: a list of integers >= 1"),
    (["train.weighting=cagrad", "train.weighting_args.c=-1"],
     "train.weighting_args.c: -1.0 is out of range; valid: a number >= 0"),
    (["train.weighting=nope"], "train.weighting: unknown method 'nope'; known methods: "),
    (["model.architecture=mmoe", "model.args.num_experts=2.5"],
     "model.args.num_experts: expected an integer, got 2.5 (float)"),
    (["model.encoder_args.filters=x"], "model.encoder_args.filters: expected a list, got 'x'"),
    (["model.architecture=dselect_k", "model.args={num_experts: 3, num_nonzeros: 4}"],
     "model.args.num_nonzeros: 4 breaks num_nonzeros <= num_experts (num_experts is 3)"),
    (["model.encoder=transformer", "model.encoder_args={units: 10, num_heads: 4}"],
     "model.encoder_args.units: 10 breaks units % num_heads == 0"),
    (["train.optimizer=sgd", "train.optimizer_args.momentum=1.5"],
     "train.optimizer_args.momentum: 1.5 is out of range; valid: a number in [0, 1)"),
    (["train.optimizer_args.momentum=0.9"],
     "train.optimizer_args.momentum: unknown argument of optimizer 'adam'; valid: beta_1"),
    (["model.architecture=learning_to_branch", "model.args.min_temperature=6"],
     "model.args.min_temperature: 6.0 breaks min_temperature <= temperature (temperature is "
     "5.0); valid: min_temperature <= temperature"),
    (["train.loss_options={same_digit: {focal_gamma: .nan}}"],
     "train.loss_options.same_digit.focal_gamma: nan is not a finite number; valid: a number "
     ">= 0, or null"),
    (["data.options.train_size=0"],
     "data.options.train_size: 0 is out of range; valid: an integer >= 1, or null"),
])
def test_bad_arguments_exit_2_before_tensorflow_is_imported(override, message):
    args = [sys.executable, "-X", "importtime", "train.py", "--config", "configs/tiny.yaml"]
    for s in override:
        args += ["--set", s]
    start = time.perf_counter()
    result = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("config error: ")]
    assert errors and errors[0].startswith("config error: " + message), result.stderr[-2000:]
    assert "| tensorflow" not in result.stderr and "| keras" not in result.stderr
    assert time.perf_counter() - start < 30


def test_list_name_prints_the_arguments(capsys):
    assert train.main(["--list", "dselect_k"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("architecture dselect_k (model.architecture: dselect_k; arguments "
                          "in model.args)")
    assert "  num_nonzeros: an integer >= 1; default 2\n      k, the most experts a gate " \
           "selects" in out
    assert "rule: num_nonzeros <= num_experts" in out
    assert train.main(["--list", "adamw"]) == 0
    assert "weight_decay: a number >= 0; default 0.004" in capsys.readouterr().out
    assert train.main(["--list", "nope"]) == 2
    assert "nothing registered as 'nope'; known: adam, adamw, aitm" in capsys.readouterr().err
    assert train.main(["--list", "multiclass"]) == 0
    assert "class_weights: a list of numbers >= 0, or null; default null" in \
        capsys.readouterr().out
    assert train.main(["--list", "config"]) == 0
    out = capsys.readouterr().out
    assert "train.weighting_args: default {}\n    its arguments (e.g. {c: 0.4} for cagrad)" in out


def test_the_markdown_reference_has_every_registered_thing():
    text = markdown()
    for section in SECTIONS:
        assert f"(`{section.name_key}`, arguments in `{section.key}`)" in text
        for name in static_declarations(section):
            assert f"### `{name}`" in text
    assert "| `c` | a number >= 0 | `0.4` | radius of the ball" in text
    assert "### `binary`" in text and "| `focal_gamma` |" in text
    assert describe("cagrad").splitlines()[1] == "  c: a number >= 0; default 0.4"


def test_every_config_field_has_a_meaning():
    from training.config import field_docs
    missing = [key for key, (_, doc) in field_docs().items() if not doc]
    assert not missing


# ------------------------------------------------------- accepted draws train (slow)
SKIP = object()


def valid_value(arg, default, rng):
    """A small value the declaration accepts; SKIP for names and mappings without choices
    (they name tasks, files or columns, which no declaration can know)."""
    from utils.arguments import Interval
    if arg.choices:
        return arg.choices[rng.integers(len(arg.choices))]
    kind = arg.types[rng.integers(len(arg.types))]
    if kind in (str, dict):
        return SKIP
    if kind is bool:
        return bool(rng.integers(2))
    item = arg.item if kind is list else kind
    interval = Interval.parse(arg.range) if arg.range else None
    low = 0.0 if interval is None or not math.isfinite(interval.low) else interval.low
    high = low + 2 if interval is None or not math.isfinite(interval.high) else \
        min(interval.high, low + 2)

    def number():
        if item is int:
            lo = int(math.ceil(low)) + (0 if interval is None or interval.low_closed or
                                        not float(low).is_integer() else 1)
            return int(rng.integers(lo, int(high) + 1))
        x = float(rng.uniform(low, high))
        return x if interval is None or x in interval else (low + high) / 2
    if kind is list:
        length = Interval.parse(arg.length) if arg.length else Interval(1, 2, True, True)
        count = int(rng.integers(max(int(length.low), 1), max(int(length.low), 1) + 2))
        return [number() for _ in range(count)] if item in (int, float) else SKIP
    return number()


# Arguments that state what the given files are (their format, a header line, the column
# separator), which no draw can choose.
FILE_FACTS = {"format", "header", "separator"}


def draws(section, name, count, seed=0):
    """Up to `count` distinct argument sets the loader accepts, each {argument: value}."""
    rng = np.random.default_rng(seed)
    declaration = static_declarations(section)[name]
    out = []
    for _ in range(20 * count):
        args = {a: valid_value(d, d.default, rng) for a, d in declaration.items()
                if rng.random() < 0.7}
        args = {a: v for a, v in args.items() if v is not SKIP and a not in FILE_FACTS}
        try:
            load(section, name, args)
        except ConfigError:
            continue
        if args not in out:
            out.append(args)
        if len(out) == count:
            break
    return out


def build_model(config, tasks, inputs):
    import keras

    import models

    keras.utils.set_random_seed(0)
    return models.MultiTaskModel(
        tasks=[t.to_config() for t in tasks], inputs=[i.to_config() for i in inputs],
        architecture=config.model.architecture, encoder=config.model.encoder,
        encoder_args=config.model.encoder_args, args=config.model.args)


def train_step(config, tasks, inputs, model=None, traced=True, batch=None):
    """One training step of `config` (a new model, or `model`); `traced`: as the trainer runs
    it (a tf.function), else eagerly, which meets the same argument errors at about a fifth of
    the cost (no tracing). Returns the model."""
    import tensorflow as tf

    from tests.models.helpers import make_batch
    from training.setup import TrainSetup
    from training.trainer import Trainer

    model = model or build_model(config, tasks, inputs)
    trainer = Trainer(model, tasks, TrainSetup.resolve(config.train, tasks), verbose=0)
    tf.config.run_functions_eagerly(not traced)
    try:
        loss, _ = trainer.train_step(batch or make_batch(tasks, inputs, n=4))
    finally:
        tf.config.run_functions_eagerly(False)
    assert np.isfinite(float(loss))
    return model


def case_setup(section, name):
    """(config values, tasks, inputs) that let `name` train: the funnel tasks for esmm and
    aitm, token sequences for the text encoders, images for the CNN, numbers otherwise."""
    from inputs import InputSpec
    from tests.models.helpers import IMAGE_INPUTS, TABULAR_INPUTS, TASKS

    values = {"model.encoder": "mlp", "model.encoder_args": {"units": [4]},
              "model.args": {"tower_units": [4]}, "train.diagnostics_per_epoch": 0,
              "train.affinity_per_epoch": 0, "train.gate_diagnostics": False}
    tasks, inputs = TASKS[:2], TABULAR_INPUTS
    if name in ("esmm", "aitm"):
        tasks = tuple(Task(n, "binary") for n in ("click", "conversion", "click_conversion"))
    if section.kind == "encoder" and name == "cnn":
        inputs = IMAGE_INPUTS
    elif section.kind == "encoder" and name in ("bilstm", "transformer"):
        inputs = (InputSpec("text", "text", dtype="string", vocabulary=("a", "b", "c"),
                            embedding_dim=4),)
        tasks = (Task("tag", "token_multiclass", ("X", "Y")), Task("other", "token_multiclass",
                                                                    ("P", "Q")))
    return values, tasks, inputs


# Generated datasets cheap enough to build (a few dozen examples) and train a step on; the
# others read files or catalogue data this machine cannot download, or (multi_attribute_shapes,
# the digit datasets) take seconds to compose: only their spec is built.
GENERATED = ("mmoe_synthetic", "planted_groups", "conversion_funnel")
SMALL = {"train_size": 16, "validation_size": 4, "test_size": 4}


def train_generated(name, args, data_dir):
    """Builds dataset `name` with options `args` (small splits) and trains a step on it."""
    from training.experiment import Experiment

    config = load_config(None, values={
        "data.name": name, "data.options": {**args, **SMALL}, "data.data_dir": data_dir,
        "train.batch_size": 8, "model.architecture": "shared_bottom", "model.encoder": "mlp",
        "model.encoder_args": {"units": [4]}, "model.args": {"tower_units": [4]},
        "train.diagnostics_per_epoch": 0, "train.affinity_per_epoch": 0})
    experiment = Experiment(config)
    experiment.prepare()
    batch = next(iter(experiment.train_fn()(0)))
    train_step(config, experiment.tasks, experiment.mixture.inputs, traced=False, batch=batch)


@pytest.mark.slow
@pytest.mark.parametrize("section, name", [
    (s, n) for s in SECTIONS for n in sorted(static_declarations(s)) if n != "keras_application"],
    ids=lambda x: getattr(x, "kind", x))
def test_accepted_draws_train_a_step(section, name, tmp_path):
    """Accepted draws of each thing (keras_application is left out: a backbone takes tens of
    seconds to build; tests/models/test_encoders.py builds one). Two of each train a step:
    the first traced, the second eagerly (a third costs as much again: ~30 s more in all on
    2 busy cores); a method's draws share one model, which their arguments do not change.
    An optimizer trains one (Keras's own, its arguments passed through). A dataset's three
    draws build its spec, and a generated one trains a step on its data."""
    values, tasks, inputs = case_setup(section, name)
    count = {"dataset": 3, "optimizer": 1}.get(section.kind, 2)
    accepted = draws(section, name, count=count, seed=len(name))
    assert accepted, f"no accepted draw for {name}"
    if section.kind == "dataset":  # the spec is built (nothing is downloaded or prepared)
        import data
        for args in accepted:
            config = load(section, name, {**args, "data_dir": str(tmp_path)} if
                          "data_dir" in static_declarations(section)[name] else args)
            assert data.get_dataset(name, **config.data.options).tasks
        if name in GENERATED:
            train_generated(name, accepted[0], str(tmp_path))
        return
    model = None
    for i, args in enumerate(accepted):
        args = fit_to_data(name, args, tasks)
        config = load_config(None, values={**values, section.name_key: name, section.key: args})
        trained = train_step(config, tasks, inputs, model=model, traced=i == 0)
        if section.kind == "method":
            model = trained


def fit_to_data(name, args, tasks):
    """`args` fitted to the tasks where an argument must match them, which no declaration can
    know: hierarchical's `level_units` list gives one width per level, and without
    `task_levels` the levels are the tasks (a mismatch is a build-time config error naming
    the key: tests/models/test_build_errors.py)."""
    if name == "hierarchical" and isinstance(args.get("level_units"), list):
        widths = args["level_units"]
        return {**args, "level_units": [widths[i % len(widths)] for i in range(len(tasks))]}
    return args


def loss_option_draw(task, rng):
    """{option: value} its kind accepts for `task`, each list one value per class."""
    out = {}
    for option, arg in task.loss_options.items():
        value = valid_value(arg, arg.default, rng)
        if isinstance(value, list):
            value = [value[i % len(value)] for i in range(task.num_outputs)]
        if rng.random() < 0.8:
            out[option] = value
    return out


@pytest.mark.slow
@pytest.mark.parametrize("case", ["kinds", "tokens"])
def test_drawn_loss_options_train_a_step(case):
    """Loss options drawn for every task kind (the four of the reference tasks; token tasks
    on a text input): one draw trains a traced step, another an eager one (token tasks only
    eagerly: their loss is the multiclass one, traced above, per token)."""
    from tests.models.helpers import TASKS

    values, tasks, inputs = case_setup(SECTIONS[1], "bilstm" if case == "tokens" else "mlp")
    if case == "tokens":
        values = {**values, "model.encoder": "bilstm", "model.encoder_args": {"units": [4]}}
    else:
        tasks = TASKS
    rng = np.random.default_rng(len(case))
    model = None
    for traced in (True, False)[case == "tokens":]:
        options = {t.name: loss_option_draw(t, rng) for t in tasks}
        config = load_config(None, values={**values, "train.loss_options": options})
        model = train_step(config, tasks, inputs, model=model, traced=traced)
