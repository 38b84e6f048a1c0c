"""Why multi-task training helps or hurts: diagnostics taken during training.

On a few evenly spaced steps of each epoch (sampled, so a run pays for them on a
handful of steps only), after the training step and on the same batch:

- **gradient conflict**: the per-task gradients on the shared part of the model
  (the shared representation, or the shared parameters with
  `train.gradient_on: parameters`; `training/sharing.py`), their pairwise cosine
  similarity and norms. Per epoch: the mean cosine matrix, the fraction of
  sampled steps on which each pair's cosine was negative (conflict), and each
  task's gradient norm over the mean norm;
- **task affinity** (Fifty et al., "Efficiently Identifying Task Groupings for
  Multi-Task Learning", NeurIPS 2021): for each task i, a lookahead SGD step of the
  shared parameters on task i's gradient alone, `theta_s - lr * grad_s L_i`, and
  the relative change of every task j's loss on the batch,
  `Z[i, j] = 1 - L_j(after) / L_j(before)`; positive: a step for i helps j; 0 where
  task j has no labelled example in the batch (a mixture's batch that drew none of its
  sources: nothing to measure). The parameters are restored afterwards. `lr` is
  `lookahead_lr`, by default the training learning rate;
- **gates** (MMoE, CGC, PLE), at each epoch's end on validation batches: the mean
  gate weight per expert per task and the mean per-example gate entropy (nats;
  `log(experts)` when a gate spreads evenly, 0 when it picks one expert); with them,
  a `learning_to_branch` model's tree at each epoch's end (`tree`: each node's and
  task's parent, and the branching probabilities; `models.inspection.branching_tree`).

Everything goes to `history.json` (`logs["diagnostics"]`, with every sample), to
TensorBoard (`diagnostics/...`) and to the report (`report.py`). A model with
nothing shared (`single_task`) has no gradient diagnostics; diagnostics run on one
replica only (under a distribution strategy they are skipped, with a note).

Example:
>>> from training.diagnostics import sampled_steps
>>> sampled_steps(100, 4)
[12, 37, 62, 87]
"""

import numpy as np
import tensorflow as tf

from training.weighting.base import flat


def sampled_steps(steps_per_epoch, count):
    """`count` evenly spaced step indices in [0, steps_per_epoch), the middle of each slice."""
    if not count or not steps_per_epoch:
        return []
    count = min(int(count), int(steps_per_epoch))
    return sorted({int((k + 0.5) * steps_per_epoch / count) for k in range(count)})


def taped_task_losses(view, trainer, inputs, labels, masks):
    """A forward pass in inference mode under a persistent tape: (the tape, the per-task
    losses [T], the same as a list, so each task's gradient can be taken, the
    representations `view` returns)."""
    with tf.GradientTape(persistent=True) as tape:
        _, logits, reps = view(inputs, training=False)
        losses, _, _ = trainer._task_losses(labels, logits, masks)
        loss_list = tf.unstack(losses)  # on the tape: a gradient per task
    return tape, losses, loss_list, reps


class Diagnostics:
    """Samples gradient conflict, task affinity and gate use during `Trainer.fit`.

    Args:
        trainer: `Trainer`. The trainer whose model, tasks and losses are inspected.
        gradients_per_epoch: int. Sampled steps per epoch for gradient cosines (0: off).
        affinity_per_epoch: int. Sampled steps per epoch for task affinity (0: off).
        gates: bool. Gate statistics at each epoch's end (gated architectures).
        lookahead_lr: float or None. Step size of the affinity lookahead
            (default: the optimizer's learning rate).
        gate_batches: int. Validation batches the gate statistics read.
    """

    def __init__(self, trainer, gradients_per_epoch=4, affinity_per_epoch=1, gates=True,
                 lookahead_lr=None, gate_batches=8):
        from training.sharing import find_shared

        self.trainer = trainer
        self.tasks = trainer.tasks
        self.gradients_per_epoch = int(gradients_per_epoch)
        self.affinity_per_epoch = int(affinity_per_epoch)
        self.gates = bool(gates)
        self.lookahead_lr = lookahead_lr
        self.gate_batches = int(gate_batches)
        self.note = None
        self.shared = trainer.shared
        if trainer.strategy.num_replicas_in_sync > 1:
            self.note = "diagnostics run on one replica only; skipped"
            self.gradients_per_epoch = self.affinity_per_epoch = 0
            self.gates = False
        elif len(self.tasks) < 2:
            self.note = "one task: nothing to compare"
            self.gradients_per_epoch = self.affinity_per_epoch = 0
        elif self.shared is None and (self.gradients_per_epoch or self.affinity_per_epoch):
            try:
                self.shared = find_shared(trainer.model)
            except ValueError:
                self.note = "nothing is shared between the tasks: no gradient diagnostics"
                self.gradients_per_epoch = self.affinity_per_epoch = 0
        self._gradient_fn = None
        self._affinity_fn = None
        self._view = None
        self.reset()

    @property
    def active(self):
        return bool(self.gradients_per_epoch or self.affinity_per_epoch or self.gates)

    def reset(self):
        self.samples = []       # gradient samples of the current epoch
        self.affinities = []    # affinity samples of the current epoch

    # ------------------------------------------------------------------ steps
    def _on_representation(self):
        return self.trainer.gradient_on == "representation"

    def _forward(self):
        if self._view is None:
            reps = self.shared.representation if self._on_representation() else ()
            self._view = self.trainer.model.training_view(reps)
        return self._view

    def _gradients(self, batch):
        """Gram matrix of the per-task gradients on the shared part for one batch."""
        if self._gradient_fn is None:
            view, trainer = self._forward(), self.trainer
            on_rep = self._on_representation()

            # Relaxed shapes: batches of sentences differ in length; one trace, not one each.
            @tf.function(reduce_retracing=True)
            def fn(inputs, labels, masks):
                tape, _, loss_list, reps = taped_task_losses(view, trainer, inputs, labels,
                                                             masks)
                targets = reps if on_rep else self.shared.variables
                g = tf.stack([flat(tape.gradient(l, targets), targets) for l in loss_list])
                return tf.matmul(g, g, transpose_b=True)
            self._gradient_fn = fn
        return self._gradient_fn(*batch).numpy()

    def _affinity(self, batch):
        """Z[i, j] = 1 - L_j(after a lookahead step on task i) / L_j(before)."""
        if self._affinity_fn is None:
            model, trainer = self.trainer.model, self.trainer
            view = model.training_view()
            shared = self.shared.variables
            lr = float(self.lookahead_lr if self.lookahead_lr is not None else
                       keras_learning_rate(trainer.optimizer))

            # Relaxed shapes: batches of sentences differ in length; one trace, not one each.
            @tf.function(reduce_retracing=True)
            def fn(inputs, labels, masks):
                tape, before, loss_list, _ = taped_task_losses(view, trainer, inputs, labels,
                                                               masks)
                saved = [tf.identity(v) for v in shared]
                labelled = tf.stack([tf.reduce_sum(masks[t.name]) > 0 for t in trainer.tasks])
                rows = []
                for loss in loss_list:
                    grads = tape.gradient(loss, shared)
                    for v, g in zip(shared, grads):
                        if g is not None:  # embeddings give IndexedSlices: made dense
                            v.assign_sub(lr * tf.convert_to_tensor(g))
                    _, logits_after, _ = view(inputs, training=False)
                    after, _, _ = trainer._task_losses(labels, logits_after, masks)
                    # A task with no labelled example in the batch (a mixture's source not
                    # drawn) has no loss to change: 0, not the 1 that 0 / eps would give.
                    rows.append(tf.where(labelled, 1.0 - after / tf.maximum(before, 1e-12),
                                         tf.zeros_like(before)))
                    for v, s in zip(shared, saved):
                        v.assign(s)
                return tf.stack(rows)
            self._affinity_fn = fn
        return self._affinity_fn(*batch).numpy()

    def on_step(self, epoch, step, steps_per_epoch, batch):
        """Takes the samples due at `step` (0-based) of `epoch` (1-based)."""
        if self.gradients_per_epoch and step in sampled_steps(steps_per_epoch,
                                                              self.gradients_per_epoch):
            gram = self._gradients(batch)
            norms = np.sqrt(np.maximum(np.diag(gram), 0.0))
            cosine = gram / np.maximum(np.outer(norms, norms), 1e-20)
            self.samples.append({"epoch": epoch, "step": step,
                                 "cosine": np.round(cosine, 6).tolist(),
                                 "norms": [float(n) for n in norms]})
        if self.affinity_per_epoch and step in sampled_steps(steps_per_epoch,
                                                             self.affinity_per_epoch):
            z = self._affinity(batch)
            self.affinities.append({"epoch": epoch, "step": step,
                                    "affinity": np.round(z, 8).tolist()})

    # ------------------------------------------------------------------ epoch
    def _gate_statistics(self, val_ds):
        from models.inspection import gate_statistics
        if not self.gates or val_ds is None:
            return {}
        return gate_statistics(self.trainer.model, val_ds, max_batches=self.gate_batches)

    def _tree(self):
        from models.inspection import branching_tree
        return branching_tree(self.trainer.model) if self.gates else None

    def epoch_summary(self, val_ds=None):
        """The epoch's diagnostics (a JSON-ready dict), then a fresh epoch."""
        names = [t.name for t in self.tasks]
        out = {"tasks": names}
        if self.note:
            out["note"] = self.note
        if self.samples:
            cos = np.array([s["cosine"] for s in self.samples])
            norms = np.array([s["norms"] for s in self.samples])
            ratio = norms / np.maximum(norms.mean(axis=1, keepdims=True), 1e-20)
            out.update({
                "gradient_space": self.trainer.gradient_on,
                "gradient_cosine": np.round(cos.mean(axis=0), 6).tolist(),
                "conflict_fraction": np.round((cos < 0).mean(axis=0), 6).tolist(),
                "gradient_norm_ratio": {n: float(r) for n, r in zip(names, ratio.mean(axis=0))},
                "gradient_samples": self.samples})
        if self.affinities:
            z = np.array([a["affinity"] for a in self.affinities])
            out.update({"affinity": np.round(z.mean(axis=0), 8).tolist(),
                        "affinity_samples": self.affinities})
        gates = self._gate_statistics(val_ds)
        if gates:
            out["gates"] = gates
        tree = self._tree()
        if tree:
            out["tree"] = tree
        self.reset()
        return out


def keras_learning_rate(optimizer):
    """The optimizer's current learning rate as a float (schedules included)."""
    lr = optimizer.learning_rate
    return float(lr.numpy() if hasattr(lr, "numpy") else lr)


def scalars(diagnostics):
    """Flat {tensorboard tag: value} of one epoch's diagnostics."""
    names = diagnostics.get("tasks", [])
    out = {}
    for key, tag in (("gradient_cosine", "cosine"), ("conflict_fraction", "conflict")):
        if key in diagnostics:
            m = diagnostics[key]
            for i in range(len(names)):
                for j in range(i + 1, len(names)):
                    out[f"diagnostics/{tag}/{names[i]}__{names[j]}"] = m[i][j]
    for task, r in diagnostics.get("gradient_norm_ratio", {}).items():
        out[f"diagnostics/norm_ratio/{task}"] = r
    if "affinity" in diagnostics:
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                if i != j:
                    out[f"diagnostics/affinity/{a}_to_{b}"] = diagnostics["affinity"][i][j]
    for task, g in diagnostics.get("gates", {}).items():
        out[f"diagnostics/gate_entropy/{task}"] = g["entropy"]
    return out
