"""`find_shared` on every architecture: which layers are shared, where tasks branch off."""

import pytest

import models
from tests.models.helpers import TASKS, build
from tests.models.test_architectures import CASES, TASKS_OF
from training.sharing import find_shared

NAMES = [t.name for t in TASKS]
# architecture -> (shared layers that must be found, layers that must not be, tensors
# in the representation); None: nothing is shared.
EXPECTED = {
    "shared_bottom": ({"shared_encoder"}, set(), 1),
    "soft_sharing": ({"soft_sharing"}, {f"encoder_{t}" for t in NAMES}, 4),
    "cross_stitch": ({"cross_stitch_0", "cross_stitch_1", "cross_stitch_2", "tower_digit_0"},
                     set(), 4),
    "mmoe": ({"expert_0", "expert_1", "expert_2"}, {f"gate_{t}" for t in NAMES}, 3),
    "omoe": ({"expert_0", "expert_1", "expert_2", "gate"}, set(), 1),
    "cgc": ({"shared_expert_0", "shared_expert_1"}, {f"{t}_expert_0" for t in NAMES}, 2),
    "ple": ({"shared_encoder", "gate_shared_level1", "level2_shared_expert_0_0",
             "level1_digit_expert_0_0"}, {"level2_digit_expert_0_0"}, 9),
    "hierarchical": ({"shared_encoder", "level1", "level2", "tower_digit_0", "tower_big_0"},
                     {"tower_tags_0", "tower_value_0"}, 3),
    "single_task": None,
    # While searching, every node can feed every task (Gumbel-softmax mixtures): all of the
    # tree is shared, and the tasks branch off after the task-level mix.
    "learning_to_branch": ({"node0_conv0a", "node0_dense", "node1_dense", "branching_tasks"},
                           {f"tower_{t}_0" for t in NAMES}, 4),
    # One shared encoder under the experts: its output (which the gates read) and the experts'.
    "dselect_k": ({"shared_encoder", "expert_0_0", "expert_1_0", "expert_2_0", "expert_3_0"},
                  {f"gate_{t}" for t in NAMES}, 5),
    "mtan": ({"shared_encoder_conv0a", "shared_encoder_conv0b", "shared_encoder_dense"},
             {f"mtan_{t}_{m}" for t in NAMES for m in ("g0", "h0", "g1", "h1")}, 3),
    # pCTCVR = pCTR x pCVR: both networks and both logits serve the click_conversion task.
    "esmm": ({"encoder_click", "encoder_conversion", "click_logits", "conversion_logits"}, set(), 2),
    # click_conversion reads click's tower through the transfer; the calibrator reads
    # click's logits, and the derived conversion (pCTCVR / pCTR) both steps' logits.
    "aitm": ({"encoder_click", "tower_click_0", "transfer_click_conversion",
              "ait_click_conversion", "click_logits", "click_conversion_logits"}, set(), 2),
}


def test_every_architecture_has_an_expectation():
    assert sorted(EXPECTED) == models.list_architectures()


@pytest.mark.parametrize("architecture", sorted(EXPECTED))
def test_find_shared(architecture):
    tasks = TASKS_OF.get(architecture, TASKS)
    model = build(architecture, CASES[architecture][0], tasks=tasks)
    if EXPECTED[architecture] is None:
        with pytest.raises(ValueError, match="found no shared trainable layers"):
            find_shared(model)
        return
    must, must_not, width = EXPECTED[architecture]
    shared = find_shared(model)
    names = set(shared.layer_names)
    assert must <= names, names
    assert not (must_not & names), names
    # Heads are never shared (but where a funnel step is computed from an earlier step's
    # logits, as listed in `must`), and the representation is where tasks branch off.
    assert not any(n in names - must for t in tasks for n in (t.name, f"{t.name}_logits"))
    assert len(shared.representation) == width
    ids = {id(v) for v in shared.variables}
    assert ids <= {id(v) for v in model.trainable_variables}
