"""cross_stitch: units near the identity, one per stage and tower layer, learnable mixing."""

import numpy as np
import pytest

from models.architectures.cross_stitch import CrossStitch
from tests.models.helpers import IMAGE_INPUTS, TASKS, build, make_batch


def test_unit_initialisation_and_mixing():
    unit = CrossStitch(self_weight=0.8, lr_multiplier=100.0)
    a, b, c = (np.full((2, 3), v, "float32") for v in (1.0, 2.0, 4.0))
    out = unit([a, b, c])
    np.testing.assert_allclose(unit.alpha.numpy(), [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1],
                                                    [0.1, 0.1, 0.8]], rtol=1e-6)
    # lr_multiplier only rescales the stored variable.
    np.testing.assert_allclose(unit.alpha_param.numpy(), unit.alpha.numpy() / 100.0)
    np.testing.assert_allclose(out[0], 0.8 * 1 + 0.1 * 2 + 0.1 * 4, rtol=1e-6)
    np.testing.assert_allclose(out[2], 0.1 * 1 + 0.1 * 2 + 0.8 * 4, rtol=1e-6)


def test_one_unit_per_stage_and_tower_layer():
    model = build("cross_stitch", {"tower_units": [8, 8]},
                  encoder_args={"filters": [4, 4], "units": 8})
    units = [layer for layer in model.layers if isinstance(layer, CrossStitch)]
    # cnn: 2 pooling blocks + the dense layer; then 2 tower layers.
    assert len(units) == 5
    assert all(u.alpha.shape == (len(TASKS), len(TASKS)) for u in units)


def test_identity_units_make_separate_networks():
    # With self_weight 1 a task's output does not depend on the other networks' weights.
    model = build("cross_stitch", {"tower_units": [8], "self_weight": 1.0})
    x = make_batch(TASKS, IMAGE_INPUTS, n=3)[0]
    before = model(x)["digit"].numpy()
    for layer in model.layers:
        if layer.name.startswith(("encoder_big_", "tower_big_")):
            for w in layer.weights:
                w.assign(w.numpy() + 1.0)
    np.testing.assert_allclose(model(x)["digit"].numpy(), before, rtol=1e-6)


@pytest.mark.parametrize("self_weight", [0.9])
def test_single_task_has_no_units(self_weight):
    model = build("cross_stitch", {"self_weight": self_weight}, tasks=TASKS[:1])
    assert not [layer for layer in model.layers if isinstance(layer, CrossStitch)]
