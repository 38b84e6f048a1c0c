"""Every architecture through the shared path: build, train (arrays and tf.data),
`.keras` round trip, SavedModel export and served predictions; parameter counts
of the reference config (tests/models/helpers.py) are pinned per architecture."""

import pytest

import models
from tasks import Task
from tests.models.helpers import TABULAR_INPUTS, TASKS, build, run_architecture_test

TOWER = {"tower_units": [8]}
EXPERTS = {"expert_units": [8], "tower_units": [8]}
TASK_NAMES = [t.name for t in TASKS]
# Conversion-funnel architectures take a funnel's tasks (the names of `conversion_funnel`)
# instead of the reference tasks.
FUNNEL_TASKS = tuple(Task(n, "binary") for n in ("click", "conversion", "click_conversion"))
TASKS_OF = {"esmm": FUNNEL_TASKS, "aitm": FUNNEL_TASKS}
# Architectures that add a loss of their own (`model.losses`).
EXTRA_LOSS = ("soft_sharing", "aitm")

# architecture -> (model.args, parameter count, {gate probe: number of experts})
CASES = {
    "shared_bottom": (TOWER, 1077, None),
    "soft_sharing": ({**TOWER, "penalty": 0.01}, 3201, None),
    "cross_stitch": (TOWER, 3249, None),
    "mmoe": ({**EXPERTS, "num_experts": 3}, 3489, {f"gate_{t}": 3 for t in TASK_NAMES}),
    "omoe": ({**EXPERTS, "num_experts": 3}, 2904, {f"gate_{t}": 3 for t in TASK_NAMES}),
    "cgc": ({**EXPERTS, "num_shared_experts": 2, "num_task_experts": 1}, 5829,
            {f"gate_{t}": 3 for t in TASK_NAMES}),
    "ple": ({**EXPERTS, "num_levels": 2, "shared_encoder": True, "num_shared_experts": 2, "num_task_experts": 1}, 2211,
            {**{f"gate_{t}": 3 for t in TASK_NAMES}, **{f"gate_{t}_level1": 3 for t in TASK_NAMES},
             "gate_shared_level1": 2 + len(TASK_NAMES)}),
    "hierarchical": ({"task_levels": {"digit": 1, "big": 1, "tags": 2, "value": 2},
                      "level_units": 8, **TOWER}, 1349, None),
    "single_task": (TOWER, 3201, None),
    "dselect_k": ({**EXPERTS, "num_experts": 4, "num_nonzeros": 2, "shared_encoder": True}, 1581,
                  {f"gate_{t}": 4 for t in TASK_NAMES}),
    "mtan": (TOWER, 2589, None),
    "esmm": (TOWER, 1578, None),
    "aitm": ({**TOWER, "cvr_task": "conversion"}, 1842, None),
    "learning_to_branch": ({**TOWER, "search_steps": 10}, 1609, None),
}


def test_every_registered_architecture_is_tested():
    assert sorted(CASES) == models.list_architectures()


@pytest.mark.parametrize("architecture", sorted(CASES))
def test_architecture(tmp_path, architecture):
    args, params, gates = CASES[architecture]
    run_architecture_test(tmp_path, architecture, args, expected_params=params,
                          expected_gates=gates, tasks=TASKS_OF.get(architecture, TASKS),
                          expect_extra_loss=architecture in EXTRA_LOSS,
                          serve_rest=architecture == "mmoe")


def test_tabular_inputs_through_the_same_path(tmp_path):
    # Numeric + string inputs, an MLP encoder split into stages by cross-stitch units.
    run_architecture_test(tmp_path, "cross_stitch", {"tower_units": [4]}, encoder="mlp",
                          encoder_args={"units": [8, 8]}, inputs=TABULAR_INPUTS)


@pytest.mark.slow
def test_keras_application_encoder(tmp_path):
    # The smallest keras.applications backbone, random weights, 8x8 images resized to 32x32.
    run_architecture_test(tmp_path, "shared_bottom", TOWER, encoder="keras_application",
                          encoder_args={"name": "MobileNetV3Small", "backbone_args": {
                              "alpha": 0.75, "minimalistic": True,
                              "include_preprocessing": False}})


def test_unknown_architecture_lists_known_names():
    with pytest.raises(ValueError, match="known architectures: aitm, cgc, cross_stitch, dselect_k"):
        build("mixture_of_everything")


def test_unknown_architecture_argument_lists_valid_ones():
    with pytest.raises(ValueError, match=r"model.args.experts: unknown argument.*num_experts"):
        build("mmoe", {"experts": 3})
