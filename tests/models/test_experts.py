"""mmoe, cgc, ple: gates over the right experts, wiring of levels, and the gate inspection."""

import numpy as np
import pytest
import tensorflow as tf

from models.architectures.experts import ExpertMixture, Gate
from models.inspection import format_gate_weights, gate_experts, mean_gate_weights, mean_probe_values
from tests.models.helpers import IMAGE_INPUTS, TASKS, build, make_batch

TAB = {"expert_units": [4], "tower_units": [4]}


def test_gate_and_mixture():
    gate = Gate(["a", "b", "c"])
    w = gate(np.ones((2, 5), "float32"))
    np.testing.assert_allclose(np.sum(w, -1), 1.0, rtol=1e-6)
    assert Gate.from_config(gate.get_config()).experts == ["a", "b", "c"]
    experts = [np.full((2, 4), v, "float32") for v in (1.0, 2.0, 3.0)]
    mixed = ExpertMixture()([tf.constant([[1.0, 0, 0], [0.2, 0.3, 0.5]])] + experts)
    np.testing.assert_allclose(mixed[:, 0], [1.0, 0.2 + 0.6 + 1.5], rtol=1e-6)


def test_cgc_gates_see_own_and_shared_experts():
    model = build("cgc", {**TAB, "num_shared_experts": 2, "num_task_experts": 2})
    assert gate_experts(model)["gate_big"] == ["big_expert_0", "big_expert_1",
                                               "shared_expert_0", "shared_expert_1"]


def test_ple_levels():
    model = build("ple", {**TAB, "num_levels": 3, "num_shared_experts": 1, "num_task_experts": 1,
                          "shared_encoder": True})
    experts = gate_experts(model)
    assert experts["gate_shared_level1"] == [f"level1_{t.name}_expert_0" for t in TASKS] + [
        "level1_shared_expert_0"]
    assert "gate_shared_level3" not in experts  # the last level has no shared gate
    # Level 2 task experts read that task's level-1 output; shared ones the shared output.
    assert model.get_layer("level2_digit_expert_0_0").input is \
        model.get_layer("mixture_digit_level1").output
    assert model.get_layer("level2_shared_expert_0_0").input is \
        model.get_layer("mixture_shared_level1").output
    assert model.get_layer("gate_digit").input is model.get_layer("mixture_digit_level2").output


def test_cgc_is_one_level_ple():
    # The same layers, wired the same way: with CGC's weights, one-level PLE gives CGC's
    # outputs and gate values (a gate or mixture reading another tensor would differ).
    args = {"expert_units": [4], "tower_units": [3], "num_shared_experts": 2,
            "num_task_experts": 1}
    a, b = build("cgc", args), build("ple", {**args, "num_levels": 1})
    assert sorted(layer.name for layer in a.layers) == sorted(layer.name for layer in b.layers)
    for layer in a.layers:
        b.get_layer(layer.name).set_weights(layer.get_weights())
    x = make_batch(TASKS, IMAGE_INPUTS, n=6)[0]
    for got, want in ((b(x), a(x)), (b.probe_model()(x), a.probe_model()(x))):
        assert sorted(got) == sorted(want)
        for name in want:
            np.testing.assert_allclose(got[name], want[name], rtol=1e-6, err_msg=name)


@pytest.mark.parametrize("architecture, args, message", [
    ("mmoe", {"num_experts": 0}, "model.args.num_experts: 0 is out of range"),
    ("cgc", {"num_shared_experts": 0, "num_task_experts": 0},
     "breaks num_shared_experts \\+ num_task_experts >= 1"),
    ("mmoe", {"shared_encoder": True, "expert_units": []},
     "model.args.expert_units: \\[\\] breaks len\\(expert_units\\) >= 1 or not shared_encoder"),
])
def test_bad_expert_args(architecture, args, message):
    with pytest.raises(ValueError, match=message):
        build(architecture, args)


def test_mean_gate_weights_on_arrays_and_datasets():
    model = build("mmoe", {**TAB, "num_experts": 3})
    batch = make_batch(TASKS, IMAGE_INPUTS, n=10)
    on_arrays = mean_gate_weights(model, batch[0], batch_size=4)
    ds = tf.data.Dataset.from_tensor_slices(batch).batch(3)
    on_ds = mean_gate_weights(model, ds)
    assert sorted(on_arrays) == sorted(t.name for t in TASKS)
    for task in on_arrays:
        np.testing.assert_allclose(on_arrays[task], on_ds[task], rtol=1e-5)
        assert len(on_arrays[task]) == 3 and abs(sum(on_arrays[task]) - 1) < 1e-6
    # The mean of the probe over all examples, computed directly.
    direct = model.probe_model()(batch[0])["gate_value"].numpy().mean(0)
    np.testing.assert_allclose(on_arrays["value"], direct, rtol=1e-5)
    assert format_gate_weights(model, on_arrays)[0].startswith("digit: expert_0=")
    assert set(mean_probe_values(model, ds, max_batches=1)) == {f"gate_{t.name}" for t in TASKS}


def test_no_gates_no_weights():
    model = build("shared_bottom")
    assert mean_gate_weights(model, make_batch(TASKS, IMAGE_INPUTS, n=2)[0]) == {}
    assert gate_experts(model) == {}
