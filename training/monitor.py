"""The metric that picks the best checkpoint and drives early stopping (`train.monitor`).

`val_loss` (the sum of the task losses on the validation split), `loss` (the same
on the training split), `val_<task>_<metric>` or `train_<task>_<metric>`. Whether
higher is better comes from the task (`task.metric_higher_is_better`), unless
`train.monitor_mode` says `min` or `max`.

Example:
>>> from tasks import Task
>>> from training.monitor import Monitor
>>> monitor = Monitor.resolve("val_digit_accuracy", [Task("digit", "multiclass", ("a", "b"))])
>>> monitor.task, monitor.metric, monitor.higher_is_better
('digit', 'accuracy', True)
>>> monitor.value({"validation": {"digit": {"accuracy": 0.8}}})
0.8
>>> monitor.improved(0.7, best=0.8)
False
"""

import dataclasses
from typing import Optional

from tasks import monitor_names


@dataclasses.dataclass(frozen=True)
class Monitor:
    """A resolved `train.monitor`: where to read it in an epoch's logs, and its direction."""

    name: str
    split: str                 # "validation" or "train"
    task: Optional[str]        # None: the sum of the task losses
    metric: str
    higher_is_better: bool

    @classmethod
    def resolve(cls, name, tasks, mode="auto"):
        """The monitor `name` over `tasks`; an unknown name lists the valid ones (ValueError)."""
        if name in ("val_loss", "loss"):
            found = cls(name, "validation" if name == "val_loss" else "train", None, "loss",
                        False)
        else:
            found = cls._of_task(name, tasks)
        if mode in ("min", "max"):
            found = dataclasses.replace(found, higher_is_better=mode == "max")
        return found

    @classmethod
    def _of_task(cls, name, tasks):
        valid = monitor_names(tasks)
        prefix, _, rest = name.partition("_")
        if prefix in ("val", "train") and name in valid:
            # The longest task name first: `val_a_b_rmse` is task a_b's rmse, not a's b_rmse.
            for task in sorted(tasks, key=lambda t: -len(t.name)):
                if rest.startswith(task.name + "_"):
                    metric = rest[len(task.name) + 1:]
                    return cls(name, "validation" if prefix == "val" else "train", task.name,
                               metric, task.metric_higher_is_better(metric))
        raise ValueError(f"train.monitor: unknown metric {name!r}; valid: {', '.join(valid)}")

    def value(self, logs):
        """The monitored value in one epoch's logs; None when that split was not evaluated."""
        results = logs.get(self.split)
        if results is None:
            return None
        if self.task is None:
            return sum(r["loss"] for r in results.values())
        return results[self.task][self.metric]

    def improved(self, value, best):
        """Whether `value` beats `best` (anything beats no value)."""
        if value is None or best is None:
            return True
        return value > best if self.higher_is_better else value < best
