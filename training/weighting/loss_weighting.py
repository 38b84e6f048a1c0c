"""Loss weighting: how per-task losses combine into the one loss that is minimised.

- `equal`: every task weighs 1 (the plain sum).
- `static`: fixed weights from `train.task_weights`.
- `uncertainty`: learned homoscedastic uncertainty (Kendall, Gal & Cipolla, CVPR
  2018): `sum_t 0.5 * exp(-s_t) * L_t + 0.5 * s_t` with `s_t = log sigma_t^2`
  clamped to `[min_log_var, max_log_var]`, so the loss cannot run to minus infinity
  when a task loss goes to zero.
- `dwa`: Dynamic Weight Average (Liu, Johns & Davison, CVPR 2019): weights from
  the ratio of each task's last two epoch losses, `T * softmax(r / temperature)`.
- `rlw`: Random Loss Weighting (Lin et al., 2021, arXiv:2111.10603): each step,
  `T * softmax(z)` with `z ~ N(0, 1)`; the same draw on every replica.
- `gradnorm`: GradNorm (Chen et al., ICML 2018): learned weights that equalise
  each task's gradient norm on the shared part, scaled by its relative training
  rate to the power `alpha`. Needs per-task gradients (`uses_gradients`).

Every method here weighs the *whole* loss (towers and heads too); see `base.py`
for how the trainer applies them.

Example:
>>> import tensorflow as tf
>>> from data.tasks import Task
>>> from training.weighting import StepInfo, make_weighting
>>> w = make_weighting("dwa", [Task("a", "binary"), Task("b", "binary")])
>>> w.task_weights(StepInfo(losses=tf.ones([2]), step=tf.constant(0, tf.int64))).numpy()
array([1., 1.], dtype=float32)
"""

import tensorflow as tf

from training.weighting.base import Weighting, register_weighting


@register_weighting("equal")
class Equal(Weighting):
    """Every task weighs 1: the plain sum of task losses."""

    def __init__(self, tasks, task_weights=None):
        super().__init__(tasks, {})


@register_weighting("static")
class Static(Weighting):
    """Fixed per-task weights from `train.task_weights` (default 1.0)."""

    takes_task_weights = True


@register_weighting("uncertainty")
class Uncertainty(Weighting):
    """Homoscedastic uncertainty weighting (Kendall, Gal & Cipolla, CVPR 2018).

    Learns `s_t = log sigma_t^2` per task; minimises `0.5 exp(-s_t) L_t + 0.5 s_t`.
    `s_t` is clamped to `[min_log_var, max_log_var]`: without the lower bound a
    task whose loss reaches zero drives `s_t` and the total to minus infinity.

    Args:
        min_log_var: float. Lower bound of `s_t` (largest weight `0.5 exp(-min)`).
        max_log_var: float. Upper bound of `s_t`.
        initial_log_var: float. Starting `s_t` (0: weight 0.5).
    """

    def __init__(self, tasks, task_weights=None, min_log_var=-4.0, max_log_var=6.0,
                 initial_log_var=0.0):
        super().__init__(tasks, {})
        if not min_log_var < max_log_var:
            raise ValueError("train.weighting_args: min_log_var must be below max_log_var")
        self.bounds = (float(min_log_var), float(max_log_var))
        self.log_var = tf.Variable(tf.fill([self.num_tasks], float(initial_log_var)),
                                   trainable=True, name="log_var")

    def combine_vector(self, losses, info):
        s = tf.clip_by_value(self.log_var, *self.bounds)
        weights = 0.5 * tf.exp(-s)
        # The regulariser is not a task loss: each replica adds its share.
        total = tf.reduce_sum(weights * losses) + 0.5 * tf.reduce_sum(s) / info.num_replicas
        return total, tf.stop_gradient(weights)


@register_weighting("dwa")
class DynamicWeightAverage(Weighting):
    """Dynamic Weight Average (Liu, Johns & Davison, CVPR 2019).

    `w_t = T * softmax(r_t / temperature)`, `r_t = L_t(e-1) / L_t(e-2)` with epoch
    mean train losses; weights are 1 for the first two epochs.

    Args:
        temperature: float. Softmax temperature (the paper's 2.0).
    """

    def __init__(self, tasks, task_weights=None, temperature=2.0):
        super().__init__(tasks, {})
        self.temperature = float(temperature)
        # Host-updated state, restored with the checkpoint so a resumed run continues alike.
        self.history = tf.Variable(tf.zeros([2, self.num_tasks]), trainable=False, name="history")
        self.epochs_seen = tf.Variable(0, dtype=tf.int64, trainable=False, name="epochs_seen")

    def task_weights(self, info):
        ratio = self.history[1] / tf.maximum(self.history[0], 1e-12)
        dwa = self.num_tasks * tf.nn.softmax(ratio / self.temperature)
        return tf.where(self.epochs_seen >= 2, dwa, tf.ones_like(dwa))

    def on_epoch_end(self, epoch_losses):
        self.history.assign(tf.stack([self.history[1], tf.constant(epoch_losses, tf.float32)]))
        self.epochs_seen.assign_add(1)


@register_weighting("rlw")
class RandomLossWeighting(Weighting):
    """Random Loss Weighting (Lin, Ye, Xu, Shi & Zhang, arXiv:2111.10603, 2021).

    Each step draws `z ~ N(0, 1)` per task and uses `T * softmax(z)`. The draw is
    stateless, keyed on (seed, step), so replicas agree and a resumed run repeats it.

    Args:
        seed: int. Seeds the draws.
    """

    def __init__(self, tasks, task_weights=None, seed=0):
        super().__init__(tasks, {})
        self.seed = int(seed)

    def task_weights(self, info):
        z = tf.random.stateless_normal([self.num_tasks], seed=tf.stack(
            [tf.constant(self.seed, tf.int64), tf.cast(info.step, tf.int64)]))
        return self.num_tasks * tf.nn.softmax(z)


@register_weighting("gradnorm")
class GradNorm(Weighting):
    """GradNorm (Chen, Badrinarayanan, Lee & Rabinovich, ICML 2018).

    Learned weights `w` (summing to T) are moved so each task's weighted gradient
    norm `w_t n_t` approaches `mean(w n) * r_t^alpha`, where `r_t` is the task's
    loss ratio `L_t / L_t(0)` over its mean. `n_t` comes from the Gram matrix of
    per-task gradients (its diagonal), on the shared parameters or the shared
    representation (`train.gradient_on`; the paper uses the last shared layer).
    The update is a gradient step on the paper's L1 objective with the target held
    constant, divided by `mean(n)` so `lr` does not depend on the loss scale (the
    paper uses the model's optimizer); weights are then renormalised to sum to T.

    Args:
        alpha: float. Restoring-force strength (paper: 0.12-3; 1.5 is common).
        lr: float. Step size of the weight update.
    """

    uses_gradients = True

    def __init__(self, tasks, task_weights=None, alpha=1.5, lr=0.025):
        super().__init__(tasks, {})
        self.alpha, self.lr = float(alpha), float(lr)
        # Updated inside the replica step with values identical on every replica.
        agg = tf.VariableAggregation.ONLY_FIRST_REPLICA
        self.weights = tf.Variable(tf.ones([self.num_tasks]), trainable=False,
                                   aggregation=agg, name="weights")
        self.initial_losses = tf.Variable(tf.zeros([self.num_tasks]), trainable=False,
                                          aggregation=agg, name="initial_losses")

    def task_weights(self, info):
        w = tf.identity(self.weights)
        first = tf.reduce_all(tf.equal(self.initial_losses, 0.0))
        l0 = tf.where(first, info.losses, self.initial_losses)
        norms = tf.sqrt(tf.maximum(tf.linalg.diag_part(info.gram), 0.0))
        ratio = (info.losses / tf.maximum(l0, 1e-12))
        ratio = ratio / tf.maximum(tf.reduce_mean(ratio), 1e-12)
        target = tf.reduce_mean(w * norms) * ratio ** self.alpha
        grad = tf.sign(w * norms - target) * norms / tf.maximum(tf.reduce_mean(norms), 1e-12)
        new = tf.maximum(w - self.lr * grad, 1e-3)
        new = self.num_tasks * new / tf.reduce_sum(new)
        with tf.control_dependencies([self.weights.assign(new),
                                      self.initial_losses.assign(l0)]):
            return tf.identity(w)
