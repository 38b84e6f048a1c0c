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


def test_trace_norm_penalty_is_the_nuclear_norm_of_each_weight_stack():
    model = build("soft_sharing", {"penalty": 0.1, "penalty_kind": "trace_norm",
                                   "tower_units": [8]}, tasks=TASKS[:3])
    model(make_batch(TASKS[:3], IMAGE_INPUTS, n=2)[0])
    nets = model.get_layer("soft_sharing").networks
    want = sum(np.linalg.svd(np.stack([w.numpy().ravel() for w in ws]), compute_uv=False).sum()
               for ws in zip(*(n.trainable_weights for n in nets)))
    np.testing.assert_allclose(float(model.losses[0]), 0.1 * want, rtol=1e-4)
    # Identical copies are rank one: the norm is sqrt(T) |theta| per weight, not 0 as L2's.
    same = build("soft_sharing", {"penalty_kind": "trace_norm", "identical_init": True},
                 tasks=TASKS[:2])
    same(make_batch(TASKS[:2], IMAGE_INPUTS, n=2)[0])
    w0 = same.get_layer("soft_sharing").networks[0].trainable_weights
    np.testing.assert_allclose(float(same.losses[0]),
                               1e-3 * np.sqrt(2) * sum(np.linalg.norm(w.numpy()) for w in w0),
                               rtol=1e-3)


def test_unknown_penalty_kind_lists_the_valid_ones():
    import pytest
    with pytest.raises(ValueError, match="penalty_kind: unknown value 'l1'; valid: l2, "
                                         "trace_norm"):
        build("soft_sharing", {"penalty_kind": "l1"})
