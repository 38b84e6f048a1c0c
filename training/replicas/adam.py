"""`ReplicaAdam`: Keras's Adam with one learning rate per replica of stacked weights, so runs
with different learning rates (a pilot's grid) share one graph.

Adam's update is element-wise; the only change is that the step size `alpha` is
broadcast from a vector [S] over each stacked weight's replica axis. With every rate
equal it is Keras's Adam to the last bit.

Example:
>>> import keras, numpy as np
>>> w = keras.Variable(np.ones((2, 3), "float32"))       # 2 replicas of a 3-vector
>>> adam = ReplicaAdam([0.1, 0.0])
>>> _ = adam.apply_gradients([(np.ones((2, 3), "float32"), w)])
>>> [round(float(v), 3) for v in w.numpy()[:, 0]]
[0.9, 1.0]
"""

import keras
import tensorflow as tf


class ReplicaAdam(keras.optimizers.Adam):
    """Adam whose learning rate is `learning_rates[r]` for replica r (the first axis of
    every variable it updates); the other arguments are Keras Adam's."""

    def __init__(self, learning_rates, **kwargs):
        super().__init__(learning_rate=1.0, **kwargs)
        self.replica_rates = tf.constant(learning_rates, tf.float32)

    def update_step(self, gradient, variable, learning_rate):
        rates = tf.reshape(self.replica_rates, [-1] + [1] * (len(variable.shape) - 1))
        super().update_step(gradient, variable, rates)
