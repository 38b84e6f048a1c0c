"""The `Weighting` base class, what a method sees each step, and the method registry.

A weighting method turns the per-task losses of one step into the update. The
trainer hands it a `Step` (the gradient tape, the task losses, the variables and,
for methods that look at per-task gradients, the shared representation or
parameters) and applies the gradients it returns. Three shapes of method share
this base:

- loss weighting (`Weighting`): weights, perhaps learned, on the task losses;
  the gradient of the weighted total updates everything;
- loss weighting that looks at per-task gradients (`uses_gradients`, e.g.
  GradNorm): the weights come from the Gram matrix `K = G G^T` of the task
  gradients on the shared part, then weigh the whole loss;
- gradient balancing (`balances_gradients`, `gradient_balancing.py`): the
  shared part is updated with `sum_t w_t g_t`, `w` from K, and each task's own
  layers (tower, head) with its plain gradient.

K is made identical on every replica (`task_gradient_gram`): on the shared
parameters the per-task gradients are all-reduced before it is formed; on the
representation, whose gradient is per example, the replicas' Gram matrices are
summed. Every replica then computes the same weights.

Example:
>>> import tensorflow as tf
>>> from tasks import Task
>>> from training.weighting import make_weighting
>>> w = make_weighting("static", [Task("a", "binary"), Task("b", "binary")],
...                    task_weights={"a": 2.0})
>>> float(w.combine({"a": tf.constant(1.0), "b": tf.constant(1.0)})[0])
3.0
"""

import dataclasses
from typing import Callable, Optional

import numpy as np
import tensorflow as tf

from utils.arguments import check_arguments
from utils.registry import Registry

WEIGHTINGS = Registry("method", key="train.weighting", plural="methods")


def register_weighting(name):
    def wrap(cls):
        cls.name = name
        return WEIGHTINGS.register(name, cls)
    return wrap


def list_weightings():
    return WEIGHTINGS.names()


def check_task_weights(cls, task_weights, tasks):
    """Raises ValueError naming `train.task_weights` when method class `cls` ignores task
    weights but some are given, or when they name a task not among `tasks`."""
    if task_weights and not cls.takes_task_weights:
        users = [n for n, c in WEIGHTINGS.items() if c.takes_task_weights]
        raise ValueError(f"train.task_weights: {cls.name!r} does not use task weights; methods "
                         f"that do: {', '.join(users)}")
    names = [t.name for t in tasks]
    unknown = sorted(set(task_weights or {}) - set(names))
    if unknown:
        raise ValueError(f"train.task_weights: unknown task(s) {unknown}; tasks: {', '.join(names)}")


def make_weighting(name, tasks, task_weights=None, **args):
    """Builds method `name` for `tasks`: unknown names or arguments list the valid ones,
    bad argument values name their key and the valid ones (`check_task_weights` too).
    (The trainer builds the method its `TrainSetup` resolved and checked.)"""
    cls = WEIGHTINGS.get(name)
    args = check_arguments(cls, args, "train.weighting_args", skip=("tasks", "task_weights"),
                           what=f"method {name!r}")
    check_task_weights(cls, task_weights, tasks)
    return cls(tasks, task_weights=task_weights or {}, **args)


@dataclasses.dataclass
class StepInfo:
    """What a method may look at in one training step (all identical on every replica).

    Attributes:
        losses: float32 [T]. The task losses of the global batch (no gradient).
        step: int64 scalar. The optimizer's step counter (seeds per-step randomness).
        num_replicas: int. Replicas in sync; terms outside the task losses are
            divided by it because the replicas' gradients are summed.
        gram: float32 [T, T] or None. Gram matrix of per-task gradients
            (methods with `uses_gradients`).
    """

    losses: tf.Tensor
    step: tf.Tensor
    num_replicas: int = 1
    gram: tf.Tensor = None


@dataclasses.dataclass
class Step:
    """One replica's training step, as the trainer hands it to a method.

    Attributes:
        tape: tf.GradientTape. Recorded the forward pass (persistent when the
            method `uses_gradients`); a method may re-enter it to record more.
        losses: float32 [T]. This replica's share of each task loss (on the tape).
        loss_list: list of T scalars. `tf.unstack(losses)`, recorded on the tape.
        variables: list. Every variable to update (model, then the method's own).
        info: StepInfo.
        regularizer: scalar or None. Extra model losses (e.g. soft sharing's penalty).
        representation: list of tensors or None. The shared representation
            (`train.gradient_on: representation`), on the tape.
        shared_variables: list or None. The shared parameters.
        all_reduce: callable. Sums a tensor over replicas (identity on one).
    """

    tape: tf.GradientTape
    losses: tf.Tensor
    loss_list: list
    variables: list
    info: StepInfo
    regularizer: Optional[tf.Tensor] = None
    representation: Optional[list] = None
    shared_variables: Optional[list] = None
    all_reduce: Callable = lambda x: x


def flat(tensors, like):
    """Concatenates gradients (None -> zeros shaped like `like`) into one vector."""
    return tf.concat([tf.reshape(tf.zeros_like(l) if g is None else g, [-1])
                      for g, l in zip(tensors, like)], 0)


def unflat(vector, like):
    """Splits a vector made by `flat` back into tensors shaped like `like`."""
    parts, start = [], 0
    for l in like:
        # Static when known; a representation per token has a dynamic sentence length.
        size = int(np.prod(l.shape)) if l.shape.is_fully_defined() else tf.size(l)
        parts.append(tf.reshape(vector[start:start + size], tf.shape(l)))
        start += size
    return parts


def task_gradient_gram(step):
    """(G, K): the per-task gradients on the shared part, [T, D], and their Gram matrix
    K = G G^T, the same on every replica (see the module docstring).

    On the representation, G holds this replica's per-example gradients; on the
    parameters, the global batch's (all-reduced)."""
    n = len(step.loss_list)
    if step.representation is not None:
        reps = step.representation
        g = tf.stack([flat(step.tape.gradient(step.loss_list[t], reps), reps) for t in range(n)])
        return g, step.all_reduce(tf.matmul(g, g, transpose_b=True))
    shared = step.shared_variables
    g = tf.stack([flat(step.tape.gradient(step.loss_list[t], shared), shared) for t in range(n)])
    g = step.all_reduce(g)
    return g, tf.matmul(g, g, transpose_b=True)


class Weighting(tf.Module):
    """Base: fixed weights (1.0 unless `task_weights` says otherwise).

    Subclasses override `task_weights(info)` (weights, no gradient) or
    `combine_vector` (a differentiable total, e.g. with learned weights);
    methods that need per-task gradients set `uses_gradients` and get `info.gram`.
    """

    uses_gradients = False      # needs `info.gram`
    balances_gradients = False  # weights apply to the shared gradient only
    takes_task_weights = False  # reads `train.task_weights`

    def __init__(self, tasks, task_weights=None):
        super().__init__(name=getattr(self, "name", "weighting"))
        self.tasks = tuple(tasks)
        self.fixed = np.array([float((task_weights or {}).get(t.name, 1.0)) for t in self.tasks],
                              np.float32)

    @property
    def num_tasks(self):
        return len(self.tasks)

    def task_weights(self, info):
        """float32 [T]: this step's weights."""
        return tf.constant(self.fixed)

    def combine_vector(self, losses, info):
        """(total loss, weights [T]) from the replica's task losses `losses` [T]."""
        weights = tf.stop_gradient(self.task_weights(info))
        return tf.reduce_sum(weights * losses), weights

    def combine(self, task_losses, info=None):
        """Dict form: `{task: loss}` -> (total, {task: weight}); for use outside the trainer."""
        losses = tf.stack([tf.cast(task_losses[t.name], tf.float32) for t in self.tasks])
        info = info or StepInfo(losses=tf.stop_gradient(losses), step=tf.constant(0, tf.int64))
        total, weights = self.combine_vector(losses, info)
        return total, {t.name: weights[i] for i, t in enumerate(self.tasks)}

    def gradients(self, step):
        """(gradients of `step.variables`, weights [T], total loss) for one replica step."""
        if self.uses_gradients:
            return self._gradient_weighted(step)
        with step.tape:  # re-entered: learned weights must be on the tape
            total, weights = self.combine_vector(step.losses, step.info)
            if step.regularizer is not None:
                total += step.regularizer
        return step.tape.gradient(total, step.variables), weights, total

    def _gradient_weighted(self, step):
        g, step.info.gram = task_gradient_gram(step)
        weights = tf.stop_gradient(self.task_weights(step.info))
        # Task-specific layers: plain task gradients (balancing) or the weighted ones.
        own = tf.ones_like(weights) if self.balances_gradients else weights
        reg = step.regularizer
        with step.tape:  # the weighted sum must be on the tape to differentiate it
            target = tf.reduce_sum(own * step.losses)
            if reg is not None:
                target += reg
        total = tf.reduce_sum(weights * step.losses) + (0.0 if reg is None else reg)
        variables = step.variables
        if step.representation is not None:
            if not self.balances_gradients:
                return step.tape.gradient(target, variables), weights, total
            # The heads' backward pass already brings sum_t own_t g_t to the representation;
            # add the difference so the shared layers receive sum_t w_t g_t.
            reps = step.representation
            delta = unflat(tf.linalg.matvec(g, weights - own, transpose_a=True), reps)
            grads = step.tape.gradient([target] + list(reps), variables,
                                       output_gradients=[tf.ones_like(target)] + delta)
            return grads, weights, total
        shared = step.shared_variables
        shared_ids = {id(v) for v in shared}
        rest = [v for v in variables if id(v) not in shared_ids]
        by_id = dict(zip([id(v) for v in rest], step.tape.gradient(target, rest)))
        shared_grads = unflat(tf.linalg.matvec(g, weights, transpose_a=True), shared)
        if reg is not None:
            reg_grads = step.tape.gradient(reg, shared)
            shared_grads = [s if r is None else s + r for s, r in zip(shared_grads, reg_grads)]
        by_id.update(zip([id(v) for v in shared], shared_grads))
        return [by_id[id(v)] for v in variables], weights, total

    def on_epoch_end(self, epoch_losses):
        """Host-side hook after each epoch with the epoch's mean train loss per task [T]."""

    @property
    def variables_to_train(self):
        """Variables trained by the model's optimizer along with the model."""
        return list(self.trainable_variables)
