"""soft_sharing: the penalty is penalty * sum of squared distances between task networks."""

import numpy as np

from tests.models.helpers import make_batch, IMAGE_INPUTS, TASKS, build


def penalty_by_hand(model):
    nets = model.get_layer("soft_sharing").networks
    total = 0.0
    for i, a in enumerate(nets):
        for b in nets[i + 1:]:
            total += sum(np.sum((wa.numpy() - wb.numpy()) ** 2)
                         for wa, wb in zip(a.trainable_weights, b.trainable_weights))
    return total


def test_penalty_matches_its_definition():
    model = build("soft_sharing", {"penalty": 0.01, "tower_units": [8]}, tasks=TASKS[:3])
    model(make_batch(TASKS[:3], IMAGE_INPUTS, n=2)[0])
    assert len(model.losses) == 1
    np.testing.assert_allclose(float(model.losses[0]), 0.01 * penalty_by_hand(model), rtol=1e-4)


def test_identical_init_starts_at_zero_and_no_penalty_means_no_loss():
    x = make_batch(TASKS, IMAGE_INPUTS, n=2)[0]
    model = build("soft_sharing", {"identical_init": True})
    model(x)
    assert float(model.losses[0]) == 0.0
    free = build("soft_sharing", {"penalty": 0.0})
    free(x)
    assert not free.losses


def test_no_parameter_is_shared():
    model = build("soft_sharing", {"tower_units": [8]})
    nets = model.get_layer("soft_sharing").networks
    ids = [{id(w) for w in n.weights} for n in nets]
    assert all(not (a & b) for i, a in enumerate(ids) for b in ids[i + 1:])


def test_layer_config_round_trip():
    from models.architectures.soft_sharing import SoftSharing

    layer = build("soft_sharing", {"penalty": 0.5, "tower_units": [4]},
                  tasks=TASKS[:2]).get_layer("soft_sharing")
    clone = SoftSharing.from_config(layer.get_config())
    assert clone.penalty == 0.5 and len(clone.networks) == 2
    assert [w.shape for w in clone.networks[1].weights] == [w.shape for w in layer.networks[1].weights]
