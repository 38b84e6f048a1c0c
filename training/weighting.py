"""Loss weighting: how per-task losses combine into the one loss that is minimised.

A weighting method is a class registered by snake_case name and chosen with
`train.weighting`; `train.weighting_args` are its constructor arguments.
`combine(task_losses)` runs inside the training step (graph mode) and returns
(total loss, dict of the weights it used), which the trainer logs.

Example:
>>> import tensorflow as tf
>>> from data.tasks import Task
>>> from training.weighting import make_weighting
>>> w = make_weighting("static", [Task("a", "binary"), Task("b", "binary")],
...                    task_weights={"a": 2.0})
>>> float(w.combine({"a": tf.constant(1.0), "b": tf.constant(1.0)})[0])
3.0
"""

import inspect

import tensorflow as tf

WEIGHTINGS = {}


def register_weighting(name):
    def wrap(cls):
        WEIGHTINGS[name] = cls
        cls.name = name
        return cls
    return wrap


def make_weighting(name, tasks, task_weights=None, **args):
    if name not in WEIGHTINGS:
        raise ValueError(f"train.weighting: unknown method {name!r}; known methods: "
                         f"{', '.join(sorted(WEIGHTINGS))}")
    cls = WEIGHTINGS[name]
    valid = [p for p in inspect.signature(cls.__init__).parameters
             if p not in ("self", "tasks", "task_weights")]
    unknown = sorted(set(args) - set(valid))
    if unknown:
        raise ValueError(f"train.weighting_args: unknown argument(s) {unknown} for {name!r}; "
                         f"valid: {', '.join(valid) or '(none)'}")
    return cls(tasks, task_weights=task_weights or {}, **args)


class Weighting:
    """Base: fixed weights (1.0 unless `task_weights` says otherwise)."""

    def __init__(self, tasks, task_weights=None):
        self.tasks = tuple(tasks)
        names = [t.name for t in self.tasks]
        unknown = sorted(set(task_weights or {}) - set(names))
        if unknown:
            raise ValueError(f"train.task_weights: unknown task(s) {unknown}; tasks: {', '.join(names)}")
        self.fixed = {n: float((task_weights or {}).get(n, 1.0)) for n in names}

    def combine(self, task_losses):
        weights = {n: tf.constant(self.fixed[n]) for n in task_losses}
        total = tf.add_n([weights[n] * task_losses[n] for n in task_losses])
        return total, weights

    @property
    def variables(self):
        return []


@register_weighting("equal")
class Equal(Weighting):
    """Every task weighs 1: the plain sum of task losses."""

    def __init__(self, tasks, task_weights=None):
        super().__init__(tasks, {})


@register_weighting("static")
class Static(Weighting):
    """Fixed per-task weights from `train.task_weights` (default 1.0)."""
