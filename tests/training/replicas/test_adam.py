"""`ReplicaAdam` (training/replicas/adam.py): Keras's Adam per replica, each replica at
its own learning rate."""

import keras
import numpy as np

from training.replicas.adam import ReplicaAdam

SHAPES = ((3, 4), (4,))


def gradients(steps, replicas, seed=0):
    rng = np.random.default_rng(seed)
    return [[rng.normal(size=(replicas,) + s).astype("float32") for s in SHAPES]
            for _ in range(steps)]


def stacked_run(rates, grads, start):
    """The stacked weights [S, ...] after `ReplicaAdam(rates)` applied `grads`."""
    variables = [keras.Variable(v.copy()) for v in start]
    adam = ReplicaAdam(rates)
    for step in grads:
        adam.apply_gradients(zip(step, variables))
    return [v.numpy() for v in variables]


def own_run(rate, grads, start, r):
    """Replica r's weights after Keras's Adam(rate) applied its own gradients alone."""
    variables = [keras.Variable(v[r].copy()) for v in start]
    adam = keras.optimizers.Adam(learning_rate=rate)
    for step in grads:
        adam.apply_gradients(zip([g[r] for g in step], variables))
    return [v.numpy() for v in variables]


def test_equal_rates_are_keras_adam_on_every_replica():
    grads = gradients(5, 3)
    start = [np.ones((3,) + s, "float32") for s in SHAPES]
    stacked = stacked_run([0.01] * 3, grads, start)
    for r in range(3):
        for got, want in zip(stacked, own_run(0.01, grads, start, r)):
            np.testing.assert_array_equal(got[r], want)


def test_each_replica_takes_its_own_rate():
    grads = gradients(5, 2)
    start = [np.ones((2,) + s, "float32") for s in SHAPES]
    stacked = stacked_run([0.001, 0.1], grads, start)
    for r, rate in enumerate((0.001, 0.1)):
        for got, want in zip(stacked, own_run(rate, grads, start, r)):
            np.testing.assert_array_equal(got[r], want)
    moved = [np.abs(w[r] - 1.0).max() for w in stacked[:1] for r in range(2)]
    assert moved[1] > 10 * moved[0]       # replica 1 moved ~100x as far
