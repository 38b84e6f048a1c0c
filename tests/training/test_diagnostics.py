"""Training diagnostics: gradient cosines, task affinity and gate use, checked against
direct computations on one batch, and logged per epoch."""

import numpy as np
import pytest
import tensorflow as tf

from training.config import TrainConfig
from training.diagnostics import sampled_steps
from training.testing import synthetic_problem, train_config
from training.trainer import Trainer

PROBLEM = synthetic_problem(num_tasks=3, num_examples=192, args={
    "num_experts": 2, "expert_units": [8], "tower_units": [4]}, architecture="mmoe")


def test_sampled_steps_are_evenly_spaced_and_bounded():
    assert sampled_steps(100, 4) == [12, 37, 62, 87]
    assert sampled_steps(3, 10) == [0, 1, 2]
    assert sampled_steps(10, 0) == [] and sampled_steps(None, 4) == []


def _losses(trainer, batch):
    inputs, labels, masks = batch
    _, logits, _ = trainer.model.training_view()(inputs, training=False)
    return trainer._task_losses(labels, logits, masks)[0].numpy()


def test_cosines_and_affinity_match_a_direct_computation():
    model = PROBLEM.model()
    # The affinity's lookahead step is the optimizer's learning rate.
    trainer = Trainer(model, PROBLEM.tasks, train_config(
        gradient_on="parameters", weighting="pcgrad", learning_rate=0.5, diagnostics_per_epoch=1,
        affinity_per_epoch=1), verbose=0)
    batch = next(iter(PROBLEM.train(0, batch_size=64)))
    shared = trainer.diagnostics.shared.variables
    inputs, labels, masks = batch
    grads = []
    for i in range(len(PROBLEM.tasks)):
        with tf.GradientTape() as tape:
            _, logits, _ = model.training_view()(inputs, training=False)
            loss = trainer._task_losses(labels, logits, masks)[0][i]
        grads.append(np.concatenate([np.ravel(g) for g in tape.gradient(loss, shared)]))
    g = np.stack(grads)
    norms = np.linalg.norm(g, axis=1)
    gram = trainer.diagnostics._gradients(batch)
    np.testing.assert_allclose(gram, g @ g.T, rtol=1e-4, atol=1e-8)

    before_weights = [v.numpy().copy() for v in model.weights]
    before = _losses(trainer, batch)
    expect = np.zeros((3, 3))
    sizes = np.cumsum([int(np.prod(v.shape)) for v in shared])[:-1]
    for i in range(3):
        for v, gi in zip(shared, np.split(g[i], sizes)):
            v.assign(v.numpy() - 0.5 * gi.reshape(v.shape))
        expect[i] = 1.0 - _losses(trainer, batch) / before
        for v, w in zip(model.weights, before_weights):
            v.assign(w)
    got = trainer.diagnostics._affinity(batch)
    np.testing.assert_allclose(got, expect, rtol=1e-3, atol=1e-6)
    # The lookahead leaves the model as it was.
    for v, w in zip(model.weights, before_weights):
        np.testing.assert_array_equal(v.numpy(), w)
    assert norms.min() > 0



def test_affinity_to_a_task_without_labels_in_the_batch_is_zero():
    """A mixture's batch may draw none of a task's sources: that task's loss is 0 before and
    after the lookahead, so its column (and its row: a zero gradient moves nothing) is 0."""
    trainer = Trainer(PROBLEM.model(), PROBLEM.tasks, train_config(
        learning_rate=0.5, diagnostics_per_epoch=1, affinity_per_epoch=1), verbose=0)
    inputs, labels, masks = next(iter(PROBLEM.train(0, batch_size=64)))
    absent = PROBLEM.tasks[1].name
    masks = dict(masks, **{absent: tf.zeros_like(masks[absent])})
    z = trainer.diagnostics._affinity((inputs, labels, masks))
    np.testing.assert_array_equal(z[:, 1], 0.0)
    np.testing.assert_array_equal(z[1], 0.0)
    assert np.all(z[[0, 0, 2, 2], [0, 2, 0, 2]] != 0)  # the labelled tasks are measured

def test_diagnostics_are_logged_every_epoch():
    trainer = Trainer(PROBLEM.model(), PROBLEM.tasks, train_config(
        diagnostics_per_epoch=3, affinity_per_epoch=1, gate_diagnostics=True), verbose=0)
    history = trainer.fit(lambda e: PROBLEM.train(e, batch_size=16), PROBLEM.validation(),
                          epochs=2)
    for logs in history:
        d = logs["diagnostics"]
        assert d["tasks"] == [t.name for t in PROBLEM.tasks]
        cos = np.array(d["gradient_cosine"])
        assert cos.shape == (3, 3) and np.allclose(np.diag(cos), 1.0, atol=1e-4)
        np.testing.assert_allclose(cos, cos.T, atol=1e-5)
        conflict = np.array(d["conflict_fraction"])
        assert ((conflict >= 0) & (conflict <= 1)).all() and np.all(np.diag(conflict) == 0)
        assert len(d["gradient_samples"]) == 3 and len(d["affinity_samples"]) == 1
        assert np.array(d["affinity"]).shape == (3, 3)
        assert pytest.approx(np.mean(list(d["gradient_norm_ratio"].values()))) == 1.0
        for task, gate in d["gates"].items():
            assert len(gate["weights"]) == 2 and sum(gate["weights"]) == pytest.approx(1.0)
            assert 0.0 <= gate["entropy"] <= gate["max_entropy"] + 1e-9
        assert logs["step_time_ms"] > 0 and logs["peak_memory_mb"] > 0


def test_nothing_shared_gives_a_note_not_an_error():
    trainer = Trainer(PROBLEM.model(architecture="single_task", args={"tower_units": [4]}),
                      PROBLEM.tasks, TrainConfig(), verbose=0)  # the default diagnostics
    history = trainer.fit(lambda e: PROBLEM.train(e, batch_size=32), epochs=1)
    assert "nothing is shared" in history[0]["diagnostics"]["note"]
