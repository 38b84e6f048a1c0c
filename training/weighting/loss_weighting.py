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
>>> from tasks import Task
>>> from training.weighting import StepInfo, make_weighting
>>> w = make_weighting("dwa", [Task("a", "binary"), Task("b", "binary")])
>>> w.task_weights(StepInfo(losses=tf.ones([2]), step=tf.constant(0, tf.int64))).numpy()
array([1., 1.], dtype=float32)
"""

import tensorflow as tf

from training.weighting.base import Weighting, register_weighting
from utils.arguments import Arg, arguments


@register_weighting("equal")
@arguments()
class Equal(Weighting):
    """Every task weighs 1: the plain sum of task losses."""

    def __init__(self, tasks, task_weights=None):
        super().__init__(tasks, {})


@register_weighting("static")
@arguments()
class Static(Weighting):
    """Fixed per-task weights from `train.task_weights` (default 1.0)."""

    takes_task_weights = True


@tf.custom_gradient
def clamp(x, low, high):
    """`clip_by_value` whose gradient is kept where it points back into [low, high]: a
    value held at a bound is not stuck there (plain clipping gives it no gradient)."""
    def grad(g):
        # Descent moves x by -g: at the low bound only g < 0 moves it back up, at the
        # high bound only g > 0 moves it down.
        inside = (x > low) & (x < high)
        back = ((x <= low) & (g < 0)) | ((x >= high) & (g > 0))
        return tf.where(inside | back, g, tf.zeros_like(g)), None, None
    return tf.clip_by_value(x, low, high), grad


@register_weighting("uncertainty")
@arguments(rules={"max_log_var": "min_log_var < max_log_var",
                  "initial_log_var": "min_log_var <= initial_log_var <= max_log_var"},
           min_log_var=Arg(float, "lower bound of s = log sigma^2 (largest weight k exp(-min))"),
           max_log_var=Arg(float, "upper bound of s"),
           initial_log_var=Arg(float, "starting s (0: weight k)"))
class Uncertainty(Weighting):
    """Homoscedastic uncertainty weighting (Kendall, Gal & Cipolla, CVPR 2018).

    Learns `s_t = log sigma_t^2` per task; minimises `k_t exp(-s_t) L_t + 0.5 s_t`
    with the paper's likelihood scale `k_t`: 1 for classification (softmax or
    sigmoid) tasks, 0.5 for regression (`task.uncertainty_scale`). `s_t` is clamped
    to `[min_log_var, max_log_var]`: without the lower bound a task whose loss reaches
    zero drives `s_t` and the total to minus infinity; the clamp keeps the gradient
    that points back inside (`clamp`), so `s_t` can leave a bound again.

    Args:
        min_log_var: float. Lower bound of `s_t` (largest weight `k exp(-min)`).
        max_log_var: float. Upper bound of `s_t`.
        initial_log_var: float. Starting `s_t` (0: weight `k`).
    """

    def __init__(self, tasks, task_weights=None, min_log_var=-4.0, max_log_var=6.0,
                 initial_log_var=0.0):
        super().__init__(tasks, {})
        self.bounds = (float(min_log_var), float(max_log_var))
        self.scale = tf.constant([t.uncertainty_scale for t in self.tasks], tf.float32)
        self.log_var = tf.Variable(tf.fill([self.num_tasks], float(initial_log_var)),
                                   trainable=True, name="log_var")

    def combine_vector(self, losses, info):
        s = clamp(self.log_var, *self.bounds)
        weights = self.scale * tf.exp(-s)
        # The regulariser is not a task loss: each replica adds its share.
        total = tf.reduce_sum(weights * losses) + 0.5 * tf.reduce_sum(s) / info.num_replicas
        return total, tf.stop_gradient(weights)


@register_weighting("dwa")
@arguments(temperature=Arg(float, "softmax temperature (the paper's 2)", range="(0, inf)"))
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
@arguments(seed=Arg(int, "seeds the per-step weight draws",
                    range="[0, 2147483647]"))
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
@arguments(alpha=Arg(float, "restoring-force strength (paper: 0.12-3)", range="[0, inf)"),
           lr=Arg(float, "step size of the weight update", range="(0, inf)"))
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


@register_weighting("famo")
@arguments(lr=Arg(float, "step size of the task logits' Adam (the paper's 0.025)",
                  range="(0, inf)"),
           gamma=Arg(float, "their weight decay (the paper's 0.001)", range="[0, inf)"))
class FAMO(Weighting):
    """FAMO, "Fast Adaptive Multitask Optimization" (Liu, Feng, Stone & Liu, NeurIPS 2023).

    O(1) in the number of tasks: no per-task gradients. Task logits `xi` give
    `z = softmax(xi)`; the model follows `sum_t (z_t / c) grad log L_t` with
    `c = sum_t z_t / L_t`, i.e. weights `a_t = z_t / (c L_t)` on the losses (a convex
    combination; scaled by T here, like the other convex-combination methods, so the
    learning rate keeps its meaning). After the step the losses are measured again on
    the same batch, and `xi` takes an Adam step (`lr`, weight decay `gamma`) on
    `J_softmax^T delta`, `delta_t = log L_t(before) - log L_t(after)`: tasks whose loss
    fell least gain weight.

    Args:
        lr: float. Step size of the logits' Adam (the paper's 0.025).
        gamma: float. Their weight decay (the paper's 0.001).
    """

    needs_losses_after_update = True

    def __init__(self, tasks, task_weights=None, lr=0.025, gamma=0.001):
        super().__init__(tasks, {})
        self.lr, self.gamma = float(lr), float(gamma)
        agg = tf.VariableAggregation.ONLY_FIRST_REPLICA
        zeros = tf.zeros([self.num_tasks])
        self.logits = tf.Variable(zeros, trainable=False, aggregation=agg, name="logits")
        self.moments = tf.Variable(tf.zeros([2, self.num_tasks]), trainable=False,
                                   aggregation=agg, name="moments")
        self.updates = tf.Variable(0.0, trainable=False, aggregation=agg, name="updates")
        self.before = tf.Variable(zeros, trainable=False, aggregation=agg, name="before")

    def task_weights(self, info):
        losses = tf.maximum(tf.cast(info.losses, tf.float32), 1e-8)
        z = tf.nn.softmax(self.logits)
        a = (z / losses) / tf.reduce_sum(z / losses)
        with tf.control_dependencies([self.before.assign(losses)]):
            return self.num_tasks * a

    def after_update(self, losses):
        """The logits' step from the global task losses measured after the model's step."""
        after = tf.maximum(tf.cast(losses, tf.float32), 1e-8)
        delta = tf.math.log(self.before) - tf.math.log(after)
        z = tf.nn.softmax(self.logits)
        grad = z * (delta - tf.reduce_sum(z * delta)) + self.gamma * self.logits  # J^T delta
        t = self.updates + 1.0
        m = 0.9 * self.moments[0] + 0.1 * grad
        v = 0.999 * self.moments[1] + 0.001 * grad * grad
        step = self.lr * (m / (1.0 - 0.9 ** t)) / (tf.sqrt(v / (1.0 - 0.999 ** t)) + 1e-8)
        return tf.group(self.logits.assign_sub(step), self.moments.assign(tf.stack([m, v])),
                        self.updates.assign(t))


@register_weighting("gls")
@arguments()
class GeometricLoss(Weighting):
    """GLS, the geometric loss strategy (Chennupati, Sistu, Yogamani & Rawashdeh, CVPR
    Workshops 2019): minimise the geometric mean of the task losses,
    `(prod_t L_t)^(1/T)`, whose gradient weighs each task by `GLS / (T L_t)`: a task
    with a small loss counts more, whatever the losses' scales. The weights logged are
    those."""

    def combine_vector(self, losses, info):
        # The geometric mean of the GLOBAL losses; each replica's share of the gradient
        # comes through its own losses.
        global_losses = tf.maximum(tf.cast(info.losses, tf.float32), 1e-12)
        gls = tf.exp(tf.reduce_mean(tf.math.log(global_losses)))
        weights = tf.stop_gradient(gls / (self.num_tasks * global_losses))
        return gls + tf.reduce_sum(weights * (losses - tf.stop_gradient(losses))), weights


@register_weighting("stch")
@arguments(mu=Arg(float, "smoothing; small approaches the Tchebycheff max", range="(0, inf)"),
           warmup_epochs=Arg(int, "epochs before the reference point is fixed", range="[1, inf)"))
class SmoothTchebycheff(Weighting):
    """STCH, "Smooth Tchebycheff Scalarization for Multi-Objective Optimization" (Lin,
    Zhang, Hu, Wang, Liu & Zhang, ICML 2024).

    The smooth maximum of the tasks' log-losses relative to a reference point:
    `T mu log sum_t exp(log(L_t / L*_t) / mu)`, whose gradient puts the weight
    `T softmax(log(L / L*) / mu)_t / L_t` on task t: the task furthest above its
    reference is pushed hardest. The reference `L*` is the mean training loss of the
    first `warmup_epochs` epochs' last one, during which the model follows
    `sum_t log L_t` (as the paper's code does).

    Args:
        mu: float. Smoothing: small approaches the (non-smooth) Tchebycheff max.
        warmup_epochs: int. Epochs before the reference point is fixed (>= 1).
    """

    def __init__(self, tasks, task_weights=None, mu=1.0, warmup_epochs=1):
        super().__init__(tasks, {})
        self.mu, self.warmup = float(mu), int(warmup_epochs)
        self.reference = tf.Variable(tf.ones([self.num_tasks]), trainable=False, name="reference")
        self.epochs_seen = tf.Variable(0, dtype=tf.int64, trainable=False, name="epochs_seen")

    def combine_vector(self, losses, info):
        global_losses = tf.maximum(tf.cast(info.losses, tf.float32), 1e-12)
        warm = self.epochs_seen < self.warmup
        scores = tf.math.log(global_losses / self.reference) / self.mu
        soft = self.num_tasks * tf.nn.softmax(scores)
        weights = tf.stop_gradient(tf.where(warm, tf.ones_like(soft), soft) / global_losses)
        value = tf.where(warm, tf.reduce_sum(tf.math.log(global_losses)),
                         self.num_tasks * self.mu * tf.reduce_logsumexp(scores))
        return value + tf.reduce_sum(weights * (losses - tf.stop_gradient(losses))), weights

    def on_epoch_end(self, epoch_losses):
        self.epochs_seen.assign_add(1)
        if int(self.epochs_seen.numpy()) == self.warmup:
            self.reference.assign(tf.maximum(tf.constant(epoch_losses, tf.float32), 1e-12))
