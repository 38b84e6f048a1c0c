"""`find_shared` on every architecture: which layers are shared, where tasks branch off."""

import pytest

import models
from tests.models.helpers import TASKS, build
from tests.models.test_architectures import CASES
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
}


def test_every_architecture_has_an_expectation():
    assert sorted(EXPECTED) == models.list_architectures()


@pytest.mark.parametrize("architecture", sorted(EXPECTED))
def test_find_shared(architecture):
    model = build(architecture, CASES[architecture][0])
    if EXPECTED[architecture] is None:
        with pytest.raises(ValueError, match="found no shared trainable layers"):
            find_shared(model)
        return
    must, must_not, width = EXPECTED[architecture]
    shared = find_shared(model)
    names = set(shared.layer_names)
    assert must <= names, names
    assert not (must_not & names), names
    # Heads are never shared, and the representation is where tasks branch off.
    assert not any(n in names for t in NAMES for n in (t, f"{t}_logits"))
    assert len(shared.representation) == width
    ids = {id(v) for v in shared.variables}
    assert ids <= {id(v) for v in model.trainable_variables}
