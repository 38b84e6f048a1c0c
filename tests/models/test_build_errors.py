"""Build-time config errors: what an architecture or encoder can only check against the
data's tasks and inputs (funnel task names, task levels, a task called `shared`, a tree,
an encoder's input) fails as `<full key>: <what is wrong>; valid: <...>`, which train.py
prints as a config error (exit 2)."""

import keras
import pytest

from inputs import InputSpec
from models.architectures.mtan import mtan
from tasks import Task
from tests.models.helpers import TABULAR_INPUTS, TASKS, build
from tests.models.test_architectures import FUNNEL_TASKS

MLP = {"encoder": "mlp", "encoder_args": {"units": [4]}, "inputs": TABULAR_INPUTS}
TWO_STAGES = {**MLP, "encoder_args": {"units": [4, 4]}}
TEXT = {"inputs": (InputSpec("text", "text", dtype="string", vocabulary=("a", "b"),
                             embedding_dim=4),),
        "tasks": (Task("tag", "token_multiclass", ("X", "Y")),)}
NOT_BINARY = (Task("click", "binary"), Task("conversion", "regression"),
              Task("click_conversion", "binary"))
SHARED = (Task("shared", "binary"), Task("other", "binary"))
TREE_TASKS = {"digit": 0, "big": 1, "tags": 1, "value": 0}

# id -> (architecture, model.args, build options, key, what the message says)
CASES = {
    "esmm task not in the data": (
        "esmm", {}, {**MLP, "tasks": TASKS}, "model.args.ctr_task",
        "'click' is not one of the tasks (digit, big, tags, value); esmm needs it (set "
        "data.tasks or model.args.ctr_task); valid: big"),
    "esmm unknown task": (
        "esmm", {"ctcvr_task": "purchase"}, {**MLP, "tasks": FUNNEL_TASKS},
        "model.args.ctcvr_task", "'purchase' is not one of the tasks"),
    "esmm task named twice (a rule)": (
        "esmm", {"cvr_task": "click"}, {**MLP, "tasks": FUNNEL_TASKS}, "model.args.cvr_task",
        "'click' breaks cvr_task != ctr_task and cvr_task != ctcvr_task"),
    "esmm task not binary": (
        "esmm", {}, {**MLP, "tasks": NOT_BINARY}, "model.args.cvr_task",
        "'conversion' is a regression task; esmm needs a binary task; valid: click, "
        "click_conversion"),
    "aitm step not in the data": (
        "aitm", {"funnel": ["click", "conversion", "checkout"]}, {**MLP, "tasks": FUNNEL_TASKS},
        "model.args.funnel[2]", "'checkout' is not one of the tasks"),
    "aitm step twice": (
        "aitm", {"funnel": ["click", "click"]}, {**MLP, "tasks": FUNNEL_TASKS},
        "model.args.funnel[1]", "'click' is also funnel[0]"),
    "aitm cvr task in the funnel (a rule)": (
        "aitm", {"cvr_task": "click_conversion"}, {**MLP, "tasks": FUNNEL_TASKS},
        "model.args.cvr_task", "'click_conversion' breaks cvr_task not in funnel"),
    "aitm one step": (
        "aitm", {"funnel": ["click"]}, {**MLP, "tasks": FUNNEL_TASKS}, "model.args.funnel",
        "1 item; valid: a list of strings (at least 2 items)"),
    "hierarchical unknown task": (
        "hierarchical", {"task_levels": {"digit": 1, "big": 1, "tags": 1, "value": 1,
                                         "colour": 2}},
        MLP, "model.args.task_levels.colour", "not one of the tasks; valid: digit, big, tags, "
        "value (a level for each)"),
    "hierarchical task without a level": (
        "hierarchical", {"task_levels": {"digit": 1}}, MLP, "model.args.task_levels",
        "no level for task(s) ['big', 'tags', 'value']; valid: a level >= 1 for each of digit, "
        "big, tags, value"),
    "hierarchical widths for other levels": (
        "hierarchical", {"level_units": [8, 8]}, MLP, "model.args.level_units",
        "2 widths for 4 levels; valid: an integer, or a list of 4 (one per level)"),
    "cgc task called shared": (
        "cgc", {}, {**MLP, "tasks": SHARED}, "model.architecture",
        "cgc names its shared experts and gates 'shared', and so does a task of the data; "
        "valid: data.tasks without 'shared' (other), or another architecture"),
    "ple task called shared": (
        "ple", {}, {**MLP, "tasks": SHARED}, "model.architecture", "ple names its shared"),
    "learning_to_branch branches per stage": (
        "learning_to_branch", {"branches": [2]}, TWO_STAGES, "model.args.branches",
        "[2] does not give one positive node count per encoder stage (2 stages); valid: a list "
        "of 2 integers >= 1, or null"),
    "learning_to_branch tree without every task": (
        "learning_to_branch", {"branches": [1, 2], "tree": {"layers": [[0, 0]],
                                                            "tasks": {"digit": 0}}},
        TWO_STAGES, "model.args.tree", "for each of ['digit', 'big', 'tags', 'value']}, or null"),
    "learning_to_branch tree parent out of range": (
        "learning_to_branch", {"branches": [1, 2], "tree": {"layers": [[0, 3]],
                                                            "tasks": TREE_TASKS}},
        TWO_STAGES, "model.args.tree", "does not fit branches [1, 2]"),
    "learning_to_branch tree of other things": (
        "learning_to_branch", {"branches": [1, 2], "tree": {"layers": 5, "tasks": TREE_TASKS}},
        TWO_STAGES, "model.args.tree", "does not fit"),
    "learning_to_branch tree of fractions": (
        "learning_to_branch", {"branches": [1, 2], "tree": {"layers": [[0, 0.5]],
                                                            "tasks": TREE_TASKS}},
        TWO_STAGES, "model.args.tree", "does not fit"),
    "mtan on token sequences": (
        "mtan", {}, {**TEXT, "encoder": "bilstm", "encoder_args": {"units": [4]}},
        "model.encoder", "mtan masks feature maps [H, W, C] or vectors, and an encoder stage "
        "outputs rank-3 tensors"),
    "bilstm on vectors": (
        "shared_bottom", {}, {**MLP, "encoder": "bilstm", "encoder_args": {"units": [4]}},
        "model.encoder", "bilstm needs token sequences"),
    "cnn on vectors": (
        "shared_bottom", {}, {**MLP, "encoder": "cnn", "encoder_args": {"filters": [4]}},
        "model.encoder", "cnn needs images [H, W, C]; got per-example shape"),
    "cnn pooling images to nothing": (
        "shared_bottom", {}, {"encoder": "cnn", "encoder_args": {"filters": [4] * 4}},
        "model.encoder_args.filters", "4 blocks pool 8x8 images to nothing (each halves them); "
        "valid: at most 3 blocks for these images"),
    "mlp on token sequences": (
        "shared_bottom", {}, {**TEXT, "encoder": "mlp", "encoder_args": {"units": [4]}},
        "model.encoder", "mlp needs features of a fixed size"),
    "keras_application on vectors": (
        "shared_bottom", {}, {**MLP, "encoder": "keras_application",
                              "encoder_args": {"name": "MobileNetV2"}},
        "model.encoder", "keras_application needs images [H, W, C]"),
}


def assert_config_error(error, key, says):
    """`error` is a ValueError whose message starts with `key`, says `says` and lists the
    valid values, as train.py's config errors do."""
    message = str(error.value)
    assert message.startswith(f"{key}: "), message
    assert says in message and "; valid: " in message, message


@pytest.mark.parametrize("case", CASES, ids=str)
def test_build_errors_name_the_key_and_the_valid_values(case):
    architecture, args, options, key, says = CASES[case]
    with pytest.raises(ValueError) as error:
        build(architecture, args, **options)
    assert_config_error(error, key, says)


def test_mtan_needs_a_layer_with_weights_in_every_stage():
    features = keras.Input((4,))

    def weightless(name):
        return keras.Sequential([keras.Input((4,)), keras.layers.Flatten()], name=name)

    with pytest.raises(ValueError) as error:
        mtan(features, TASKS[:2], weightless)
    assert_config_error(error, "model.encoder", "stage 0 has none")


def test_an_experiment_reports_a_task_the_data_lacks_as_a_config_error():
    from training.config import load_config
    from training.experiment import Experiment
    from utils.arguments import ArgumentError

    config = load_config("configs/tiny.yaml", ["model.architecture=esmm"])
    with pytest.raises(ArgumentError) as error:
        Experiment(config).build_model()
    assert_config_error(error, "model.args.ctr_task", "valid: same_digit")
