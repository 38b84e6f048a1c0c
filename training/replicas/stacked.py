"""`StackedModel`: S replicas of one model as stacked weights, trained by one compiled step.

Every trainable variable of the model becomes one variable with a leading replica axis
[S, ...]; `tf.vectorized_map` (pfor) turns the model's own forward pass
(`keras.Model.stateless_call` on one replica's weights) into batched ops over that axis,
so S replicas cost one graph of batched matmuls instead of S graphs. The loss is the sum
of the replicas' losses: replica r's weights only reach replica r's loss, so each gets
exactly its own gradient, and an optimizer whose update is element-wise (Adam, SGD,
RMSprop) updates each replica exactly as a run of its own would (`training/replicas/
support.py` lists what qualifies).

Example:
>>> import keras, numpy as np, models
>>> from tasks import Task
>>> from inputs import InputSpec
>>> def build(seed):
...     keras.utils.set_random_seed(seed)
...     return models.MultiTaskModel(tasks=[Task("y", "regression").to_config()],
...         inputs=[InputSpec("x", "numeric", shape=(3,)).to_config()],
...         architecture="shared_bottom", encoder="mlp", encoder_args={"units": [4]},
...         args={"tower_units": [2]})
>>> stacked = StackedModel([build(0), build(1)], [Task("y", "regression")])
>>> x = np.ones((2, 5, 3), "float32")     # [replicas, batch, features]
>>> stacked.predict({"x": x})["y"].shape
TensorShape([2, 5, 1])
>>> np.allclose(stacked.predict({"x": x})["y"][1], build(1)({"x": x[1]})["y"], atol=1e-6)
True
"""

import keras
import numpy as np
import tensorflow as tf

from models.losses import masked_loss_sum

EXTRA_LOSSES = "the model adds losses of its own (layer.add_loss)"


class StackedModel:
    """S replicas of one `MultiTaskModel` config, their weights stacked on a replica axis.

    Args:
        replicas: list of `MultiTaskModel`. Built from one config (same layers and shapes),
            each with its own initialisation; the first is the template that saving and
            export use.
        tasks: tuple of `Task`. The tasks trained (the models' outputs).
        loss_options: dict. {task: options of its kind's loss} (`TrainSetup.loss_options`).
        task_weights: list of float or None. The fixed weight of each task in the total
            loss (equal weighting: None, every task 1).
    """

    def __init__(self, replicas, tasks, loss_options=None, task_weights=None):
        self.template = replicas[0]
        self.size = len(replicas)
        self.tasks = tuple(tasks)
        self.loss_options = dict(loss_options or {})
        self.task_weights = tf.constant(
            np.ones(len(self.tasks)) if task_weights is None else task_weights, tf.float32)
        self.view = self.template.training_view()
        position = {id(v): i for i, v in enumerate(self.template.trainable_variables)}
        # stateless_call takes the view's order; saving and set_weights take the model's.
        self.order = [position[id(v)] for v in self.view.trainable_variables]
        self.variables = [
            keras.Variable(np.stack([m.trainable_variables[j].numpy() for m in replicas]),
                           name=f"replica_stack_{k}") for k, j in enumerate(self.order)]
        self.constants = [tf.constant(v.numpy()) for v in self.view.non_trainable_variables]
        check_same_constants(replicas)

    # ----------------------------------------------------------------- forward
    def _replica(self, weights, inputs, labels, masks, training):
        """One replica: (loss sums [T], label counts [T], outputs) on its batch. A model
        that adds losses of its own (`add_loss`: soft sharing's penalty, DSelect-k's and
        AITM's) is refused when the step is traced: they are only known once it runs."""
        (outputs, logits, _), _, extra = self.view.stateless_call(
            weights, self.constants, inputs, training=training, return_losses=True)
        if extra:
            raise ValueError(EXTRA_LOSSES)
        sums, counts = zip(*(masked_loss_sum(t, labels[t.name], logits[t.name], masks[t.name],
                                             self.loss_options.get(t.name))
                             for t in self.tasks))
        return tf.stack(sums), tf.stack(counts), outputs

    def losses(self, inputs, labels, masks, training=False):
        """Every replica on its own batch ([S, B, ...] each): (loss sums [S, T], label
        counts [S, T], outputs {task: [S, B, ...]})."""
        weights = [v.value for v in self.variables]
        return tf.vectorized_map(
            lambda a: self._replica(a[0], a[1], a[2], a[3], training),
            (weights, inputs, labels, masks), fallback_to_while_loop=False)

    def predict(self, inputs):
        """{task: [S, B, ...]}: each replica's outputs on its own inputs [S, B, ...]."""
        weights = [v.value for v in self.variables]

        def one(a):
            (outputs, _, _), _ = self.view.stateless_call(a[0], self.constants, a[1])
            return outputs
        return tf.vectorized_map(one, (weights, inputs), fallback_to_while_loop=False)

    def train_step(self, optimizer, inputs, labels, masks, active=None):
        """One step of every replica; returns (loss sums [S, T], counts [S, T], outputs).

        The total is the sum over replicas of each one's weighted task means (a run's own
        loss), so each replica's gradient is the one its own run would take. `active`
        [S] (1.0 / 0.0): replicas that have stopped get no update."""
        with tf.GradientTape() as tape:
            weights = [v.value for v in self.variables]
            tape.watch(weights)
            sums, counts, outputs = tf.vectorized_map(
                lambda a: self._replica(a[0], a[1], a[2], a[3], True),
                (weights, inputs, labels, masks), fallback_to_while_loop=False)
            means = sums / tf.maximum(counts, 1.0)
            total = tf.reduce_sum(means * self.task_weights, axis=1)
            if active is not None:
                total = total * active
            total = tf.reduce_sum(total)
        grads = tape.gradient(total, weights)
        optimizer.apply_gradients(zip(grads, self.variables))
        return sums, counts, outputs

    # ----------------------------------------------------------------- weights
    def replica_weights(self, r, stacked=None):
        """Replica r's weights in the model's own order (`set_weights` on the template's
        trainable variables); `stacked`: `all_weights()` already read."""
        stacked = self.all_weights() if stacked is None else stacked
        values = [None] * len(self.variables)
        for k, j in enumerate(self.order):
            values[j] = np.array(stacked[k][r])
        return values

    def all_weights(self):
        """[S, ...] arrays in the view's order (what `set_all_weights` takes back)."""
        return [v.numpy() for v in self.variables]

    def set_all_weights(self, values):
        for v, value in zip(self.variables, values):
            v.assign(value)

    def set_replica_weights(self, r, values):
        """Writes replica r's weights (the model's order) into the stack."""
        for k, j in enumerate(self.order):
            stacked = self.variables[k].numpy()
            stacked[r] = values[j]
            self.variables[k].assign(stacked)

    def as_model(self, r, values=None):
        """The template holding replica r's weights (or `values`, the model's order): a
        plain `MultiTaskModel` to save, evaluate or export."""
        values = self.replica_weights(r) if values is None else values
        for v, value in zip(self.template.trainable_variables, values):
            v.assign(value)
        return self.template


def check_same_constants(replicas):
    """Non-trainable weights (input normalisation statistics) are shared by the stack:
    ValueError when the replicas' differ (models of one config list them in one order)."""
    first = replicas[0].non_trainable_variables
    for m in replicas[1:]:
        for v, w in zip(first, m.non_trainable_variables):
            if not np.array_equal(v.numpy(), w.numpy()):
                raise ValueError(f"non-trainable weight {v.path} differs between replicas")
