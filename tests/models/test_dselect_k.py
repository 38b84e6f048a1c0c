"""dselect_k: the smooth-step, k-sparse gates once the selectors are binary, the penalties."""

import numpy as np
import pytest

from models.architectures.dselect_k import DSelectKGate, smooth_step
from tests.models.helpers import build

X = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")


def test_smooth_step_is_zero_one_and_smooth():
    gamma = 2.0
    z = np.linspace(-2, 2, 401).astype("float32")
    s = np.asarray(smooth_step(z, gamma))
    assert (s[z <= -1] == 0).all() and (s[z >= 1] == 1).all()
    assert np.all(np.diff(s) >= 0) and np.isclose(s[200], 0.5)
    # C^1 at the joins: the cubic's slope is 0 at z = +-gamma/2.
    assert abs((s[101] - s[100]) / (z[101] - z[100])) < 1e-2


def _gate(num_experts, k, per_example=False, **kwargs):
    gate = DSelectKGate([f"expert_{i}" for i in range(num_experts)], k,
                        per_example=per_example, **kwargs)
    gate(X)
    return gate


@pytest.mark.parametrize("num_experts, k", [(4, 2), (8, 3), (2, 1)])
def test_weights_are_a_distribution_over_experts(num_experts, k):
    weights = np.asarray(_gate(num_experts, k, per_example=True)(X))
    assert weights.shape == (5, num_experts) and (weights >= 0).all()
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-5)


def test_binary_selectors_pick_at_most_k_experts():
    gate = _gate(8, 2)
    # Selector 0 on code 101 (expert 5), selector 1 on code 010 (expert 2).
    z = np.array([1, -1, 1, -1, 1, -1], "float32") * gate.gamma
    gate.z_logits.assign(z)
    gate.w_logits.assign(np.array([0.3, -0.3], "float32"))
    weights = np.asarray(gate(X))
    assert set(np.flatnonzero(weights[0])) == {2, 5}
    softmax = np.exp([0.3, -0.3]) / np.exp([0.3, -0.3]).sum()
    np.testing.assert_allclose(weights[:, [5, 2]], np.tile(softmax, (5, 1)), rtol=1e-5)
    # Static gating: every example gets the same weights.
    np.testing.assert_allclose(weights, np.tile(weights[:1], (5, 1)))


def test_unreachable_codes_are_penalised():
    # 3 experts need 2 bits; code 11 names no expert.
    gate = _gate(3, 1)
    gate.z_logits.assign(np.array([-1.0, 1.0], "float32") * gate.gamma)  # code 01: expert 1
    gate(X)
    assert np.isclose(float(gate.losses[-1]), 1.0)  # k once every selector is on real experts
    gate.z_logits.assign(np.array([0.2, 0.2], "float32"))  # some mass on code 11
    gate(X)
    assert float(gate.losses[-1]) > 1.0
    assert not _gate(4, 2).losses  # a power of two has no unreachable code


def test_entropy_penalty():
    gate = _gate(4, 2, entropy_reg=0.1)
    assert len(gate.losses) == 1 and float(gate.losses[0]) > 0
    # Binary selectors have zero entropy.
    gate.z_logits.assign(np.array([1, 1, -1, -1], "float32") * gate.gamma)
    gate(X)
    assert abs(float(gate.losses[-1])) < 1e-4


@pytest.mark.parametrize("args, message", [
    ({"num_experts": 4, "num_nonzeros": 5},
     r"model.args.num_nonzeros: 5 breaks num_nonzeros <= num_experts \(num_experts is 4\)"),
    ({"num_experts": 1, "num_nonzeros": 1},
     "model.args.num_experts: 1 is out of range; valid: an integer 2 to 10000000"),
    ({"gamma": 0.0}, "model.args.gamma: 0.0 is out of range; valid: a number > 0"),
])
def test_config_errors(args, message):
    with pytest.raises(ValueError, match=message):
        build("dselect_k", {"expert_units": [4], "tower_units": [4], **args})
