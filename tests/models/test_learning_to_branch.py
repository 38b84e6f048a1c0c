"""learning_to_branch: Gumbel-softmax search then a fixed tree, the search learns a useful
parent, and the fixed tree as an ordinary (pruned) network with the same answers."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import models
from models.architectures.learning_to_branch import (
    BranchMix, fixed_tree_model, learned_tree, needed_nodes)
from tests.models.helpers import IMAGE_INPUTS, TASKS, build, make_batch, run_architecture_test

ARGS = {"branches": [2, 3], "tower_units": [4], "search_steps": 5}
TREE = {"layers": [[1, 1, 0]], "tasks": {"digit": 0, "big": 0, "tags": 2, "value": 2}}


def parents():
    return [np.full((3, 4), v, "float32") for v in (1.0, 2.0, 4.0)]


def test_inference_reads_the_most_probable_parent():
    mix = BranchMix(2, search_steps=3)
    mix(parents())
    mix.set_logits([[0.0, 0.0, 2.0], [1.0, 0.0, 0.0]])
    out = mix(parents(), training=False)
    np.testing.assert_array_equal(out[0], 4.0)
    np.testing.assert_array_equal(out[1], 1.0)
    assert float(mix.step) == 0.0  # inference does not count


def test_search_mixes_and_learns_then_the_tree_is_fixed():
    mix = BranchMix(1, search_steps=2, temperature=4.0, min_temperature=1.0, seed=0)
    mix(parents())
    assert np.isclose(float(mix.current_temperature()), 4.0)
    grads = []
    for _ in range(3):
        with tf.GradientTape() as tape:
            out = mix(parents(), training=True)[0]
        grads.append(tape.gradient(out, mix.logits_param))
    # Searching: a convex mixture of the parents, and a gradient reaches the logits.
    assert grads[0] is not None and np.abs(grads[0].numpy()).sum() > 0
    assert float(mix.step) == 3.0 and np.isclose(float(mix.current_temperature()), 1.0)
    # Fixed: the argmax parent (the first, from zero logits), no gradient to the logits.
    np.testing.assert_array_equal(out, 1.0)
    assert grads[2] is None or not np.any(grads[2].numpy())


def test_the_search_finds_the_parent_that_fits():
    # Parent 1 carries x, parent 0 noise; the child should read x (target y = x). Zero
    # logits start at parent 0 (argmax ties go first): only learning moves it.
    rng = np.random.default_rng(0)
    mix = BranchMix(1, search_steps=1000, temperature=1.0, min_temperature=1.0, seed=1)
    optimizer = keras.optimizers.SGD(0.5)
    for _ in range(60):
        x = rng.normal(size=(32, 1)).astype("float32")
        noise = rng.normal(size=(32, 1)).astype("float32")
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((mix([noise, x], training=True)[0] - x) ** 2)
        optimizer.apply_gradients([(tape.gradient(loss, mix.logits_param), mix.logits_param)])
    assert learned_parent(mix) == 1 and np.diff(np.asarray(mix.logits)[0])[0] > 1.0


def learned_parent(mix):
    return int(np.argmax(np.asarray(mix.logits)[0]))


def test_fixed_tree_model_answers_as_the_searched_model(tmp_path):
    model = build("learning_to_branch", ARGS, encoder="mlp", encoder_args={"units": [8, 8]})
    model.get_layer("branching_1").set_logits([[-1, 1], [-1, 1], [1, -1]])
    model.get_layer("branching_tasks").set_logits(
        [[1, 0, 0], [1, 0, 0], [0, 0, 1], [0, 0, 1]])
    tree = learned_tree(model)
    assert {k: tree[k] for k in ("layers", "tasks")} == TREE
    assert np.allclose(np.sum(tree["probabilities"]["branching_tasks"], axis=1), 1.0)
    fixed = fixed_tree_model(model)
    assert fixed.args["tree"] == TREE and learned_tree(fixed) == TREE
    assert not [layer for layer in fixed.layers if isinstance(layer, BranchMix)]
    # Node 1 of layer 1 feeds no task: left out; so are the mixes (logits, step counters).
    names = {layer.name for layer in fixed.layers}
    assert "node1_dense1" not in names and {"node0_dense1", "node2_dense1"} <= names
    assert fixed.count_params() == model.count_params() - (8 * 8 + 8) - (3 * 2 + 4 * 3) - 2
    x = make_batch(TASKS, IMAGE_INPUTS, n=5)[0]
    x = {"image": x["image"]}
    want = model(x, training=False)
    for task, value in fixed(x, training=False).items():
        np.testing.assert_allclose(value, want[task], rtol=1e-6, atol=1e-6)
    path = os.path.join(tmp_path, "fixed.keras")
    fixed.save(path)
    loaded = models.load_model(path)
    assert loaded.args["tree"] == TREE
    np.testing.assert_allclose(loaded(x)["tags"], want["tags"], rtol=1e-6, atol=1e-6)


def test_a_fixed_tree_trains_saves_and_serves_like_any_model(tmp_path):
    run_architecture_test(tmp_path, "learning_to_branch", {**ARGS, "tree": TREE},
                          encoder="mlp", encoder_args={"units": [8, 8]})


def test_needed_nodes_walk_up_from_the_tasks():
    # a <- node 1 of layer 2 <- node 2 of layer 1 <- node 0 of layer 0.
    assert needed_nodes([[1, 1, 0], [2, 2]], {"a": 1}, [2, 3, 2]) == [{0}, {2}, {1}]
    assert needed_nodes([[1, 1, 0]], {"a": 0, "b": 2}, [2, 3]) == [{0, 1}, {0, 2}]


@pytest.mark.slow  # ~18-22 s on 2 shared cores (a train.py run with diagnostics)
def test_training_records_the_tree_each_epoch_for_the_report(tmp_path):
    from training.testing import synthetic_problem, train_config
    from training.trainer import Trainer

    problem = synthetic_problem(num_tasks=3, num_examples=48)
    model = build("learning_to_branch", {"branches": [1, 2], "tower_units": [4],
                                         "search_steps": 2},
                  tasks=problem.tasks, inputs=problem.inputs, encoder="mlp",
                  encoder_args={"units": [8, 8]})
    trainer = Trainer(model, problem.tasks, train_config(gate_diagnostics=True), verbose=0)
    history = trainer.fit(lambda e: problem.train(e, batch_size=16), None, epochs=2)
    trees = [h["diagnostics"]["tree"] for h in history]
    assert [len(t["layers"][0]) for t in trees] == [2, 2]
    assert sorted(trees[-1]["tasks"]) == sorted(t.name for t in problem.tasks)
    assert {k: trees[-1][k] for k in ("layers", "tasks")} == {
        k: v for k, v in learned_tree(model).items() if k != "probabilities"}
    # Other architectures record none.
    other = problem.model()
    plain = Trainer(other, problem.tasks, train_config(gate_diagnostics=True), verbose=0)
    assert "tree" not in plain.fit(lambda e: problem.train(e), None, epochs=1)[0].get(
        "diagnostics", {})
