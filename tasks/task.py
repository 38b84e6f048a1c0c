"""`Task(name, kind, ...)`: the one place that says what a dataset's tasks are.

Every dataset declares its tasks as a tuple of `Task` objects. Heads, losses,
metrics, label masks and exported outputs are all derived from these, so a task's
name is written once and used everywhere (head layer, output key, label key,
metric prefix, serving output).

`Task(name, kind, ...)` returns an instance of the kind's class (`BinaryTask`,
`MulticlassTask`, ... from `tasks.registry.TASK_KINDS`; every one a
`tasks.base.TaskKind`, and `isinstance(task, Task)` holds for each): the object owns
how its label is encoded and masked, its head, loss, metrics and serving outputs. The
`kind` string is what configs and saved models store.

Missing labels are encoded in the stored data, per kind (`task.missing_label()`):
-1 for `binary` and `multiclass`, every entry -1 for `multilabel`, NaN for
`regression`. `task.encode_label` turns them into a 0/1 mask and a harmless
label value, so losses stay finite (the mask then zeroes their contribution).

Example:
>>> from tasks import Task
>>> task = Task("left", "multiclass", classes=tuple(str(d) for d in range(10)))
>>> type(task).__name__, task.num_outputs, isinstance(task, Task)
('MulticlassTask', 10, True)
>>> Task.from_config(task.to_config()) == task
True
>>> higher_is_better("val_left_accuracy", [task]), higher_is_better("val_loss", [task])
(True, False)
"""

import abc
from typing import Sequence, Tuple

from tasks.base import TaskKind
from tasks.registry import TASK_KINDS


class Task(abc.ABC):
    """Makes a task: `Task(name, kind, classes=(), label_key=None, target_mean=None,
    target_std=None, auxiliary=False)` returns the kind's object (see
    `tasks.base.TaskKind` for the arguments); an unknown kind lists the known ones."""

    def __new__(cls, *args, **kwargs):
        return TASK_KINDS.make("Task", *args, **kwargs)

    @staticmethod
    def from_config(config) -> TaskKind:
        """The task of a `to_config()` dict (a task is returned as it is)."""
        if isinstance(config, TaskKind):
            return config
        config = dict(config)
        config["classes"] = tuple(config.get("classes", ()))
        return Task(**config)


# Every kind's object is a Task (`isinstance(task, Task)`), though no kind derives from
# this factory: the kinds sit below it, the factory looks them up.
Task.register(TaskKind)


def select_tasks(all_tasks: Sequence[TaskKind], names,
                 dataset_name: str = "dataset") -> Tuple[TaskKind, ...]:
    """Returns the tasks named in `names` (all when empty), in the order given.

    An unknown name raises a ValueError listing the dataset's tasks.
    """
    by_name = {t.name: t for t in all_tasks}
    if not names:
        return tuple(all_tasks)
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ValueError(
            f"data.tasks: unknown task(s) {unknown} for {dataset_name!r}; "
            f"its tasks are: {', '.join(by_name)}"
        )
    return tuple(by_name[n] for n in names)


def tasks_to_config(tasks: Sequence[TaskKind]) -> list:
    return [t.to_config() for t in tasks]


def tasks_from_config(configs) -> Tuple[TaskKind, ...]:
    return tuple(Task.from_config(c) for c in configs)


def monitor_names(tasks: Sequence[TaskKind]) -> list:
    """Every metric a run can monitor: `val_loss`, `loss`, and `val_<task>_<metric>` and
    `train_<task>_<metric>` for each task's `loss` and `metric_names`."""
    names = ["val_loss", "loss"]
    for task in tasks:
        metrics = ("loss",) + tuple(task.metric_names)
        names += [f"val_{task.name}_{m}" for m in metrics]
        names += [f"train_{task.name}_{m}" for m in metrics]
    return names


def higher_is_better(monitor: str, tasks: Sequence[TaskKind]) -> bool:
    """Whether a higher value of `monitor` (one of `monitor_names(tasks)`; a bare
    `<task>_<metric>` too) is better, as the task's kind says: the direction of early
    stopping and of the best checkpoint. An unknown name lists the valid ones."""
    key = monitor
    for prefix in ("val_", "train_"):
        key = key[len(prefix):] if key.startswith(prefix) else key
    if key == "loss":
        return False
    for task in sorted(tasks, key=lambda t: -len(t.name)):  # `a_b_loss`: task a_b before a
        metric = key[len(task.name) + 1:] if key.startswith(f"{task.name}_") else None
        if metric == "loss" or metric in task.metric_names:
            return task.metric_higher_is_better(metric)
    raise ValueError(f"train.monitor: unknown metric {monitor!r}; valid: "
                     f"{', '.join(monitor_names(tasks))}")
