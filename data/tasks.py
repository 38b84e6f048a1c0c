"""Task declarations: the one place that says what a dataset's tasks are.

Every dataset declares its tasks as a tuple of `Task` objects. Heads, losses,
metrics, label masks and exported outputs are all derived from these, so a task's
name is written once and used everywhere (head layer, output key, label key,
metric prefix, serving output).

`Task(name, kind, ...)` returns an instance of the kind's class (`BinaryTask`,
`MulticlassTask`, ... in `data/task_kinds.py`): the object owns how its label is
encoded and masked, its head, loss, metrics and serving outputs. The `kind`
string is what configs and saved models store.

Missing labels are encoded in the stored data, per kind (`task.missing_label()`):
-1 for `binary` and `multiclass`, every entry -1 for `multilabel`, NaN for
`regression`. `task.encode_label` turns them into a 0/1 mask and a harmless
label value, so losses stay finite (the mask then zeroes their contribution).

Example:
>>> from data.tasks import Task
>>> task = Task("left", "multiclass", classes=tuple(str(d) for d in range(10)))
>>> type(task).__name__, task.num_outputs
('MulticlassTask', 10)
"""

import dataclasses
from typing import Optional, Sequence, Tuple

from utils.registry import Registry


def _load_kinds():
    from data import task_kinds  # noqa: F401  (registers every kind)


TASK_KINDS = Registry("task kind", key="kind", loader=_load_kinds)


def list_kinds():
    return TASK_KINDS.names()


@dataclasses.dataclass(frozen=True)
class Task:
    """One prediction target of a multi-task dataset.

    Args:
        name: str. The task's name, used as head name, output key, label key,
            metric prefix and serving output name. snake_case.
        kind: str. A registered task kind (`binary`, `multilabel`, `multiclass`,
            `regression`, ...: `data.tasks.list_kinds()`).
        classes: tuple of str. Class names (`multiclass`), label names
            (`multilabel`) or the negative/positive names (`binary`, default
            `("no", "yes")`). Empty for `regression`.
        label_key: str. The feature (a "/"-separated path for nested TFDS
            features) that holds the label; defaults to `name`.
        target_mean: float or None. Training mean of the label, for kinds that
            standardise their targets (`regression`): the loss sees
            `(label - target_mean) / target_std`, the output layer undoes it, so
            outputs and metrics are in the label's own units. None: no scaling.
        target_std: float or None. Training standard deviation of the label (> 0).
        auxiliary: bool. An auxiliary task (`data.auxiliary_tasks`): trained, weighted
            and reported like any task, but only to help the others: left out of the
            exported signatures and served outputs, of Δm and of study leaderboards.
    """

    name: str
    kind: str
    classes: Tuple[str, ...] = ()
    label_key: Optional[str] = None
    target_mean: Optional[float] = None
    target_std: Optional[float] = None
    auxiliary: bool = False

    def __new__(cls, *args, **kwargs):
        if cls is Task:  # dispatch to the kind's class
            kind = kwargs["kind"] if "kind" in kwargs else (args[1] if len(args) > 1 else None)
            try:
                cls = TASK_KINDS.get(kind)
            except ValueError as e:
                name = kwargs.get("name", args[0] if args else "?")
                raise ValueError(f"Task {name!r}: {e}") from None
        return object.__new__(cls)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"Task name {self.name!r} must be a valid identifier (snake_case).")
        object.__setattr__(self, "classes", self.check_classes(tuple(str(c) for c in self.classes)))
        if self.label_key is None:
            object.__setattr__(self, "label_key", self.name)
        if self.target_mean is not None or self.target_std is not None:
            self.check_target_statistics()

    # Overridden by every kind (data/task_kinds.py).
    def check_classes(self, classes):
        return classes

    def check_target_statistics(self):
        raise ValueError(f"Task {self.name!r} ({self.kind}): target_mean/target_std are for "
                         "kinds that standardise their targets (regression).")

    @property
    def num_outputs(self) -> int:
        """Width of the head."""
        raise NotImplementedError

    def to_config(self) -> dict:
        config = dataclasses.asdict(self)
        config["classes"] = list(self.classes)
        # Written only when set, so the configs of other kinds stay as they were.
        for key in ("target_mean", "target_std"):
            if config[key] is None:
                del config[key]
        if not config["auxiliary"]:
            del config["auxiliary"]
        return config

    @classmethod
    def from_config(cls, config) -> "Task":
        if isinstance(config, Task):
            return config
        config = dict(config)
        config["classes"] = tuple(config.get("classes", ()))
        return Task(**config)


def select_tasks(all_tasks: Sequence[Task], names, dataset_name: str = "dataset") -> Tuple[Task, ...]:
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


def tasks_to_config(tasks: Sequence[Task]) -> list:
    return [t.to_config() for t in tasks]


def tasks_from_config(configs) -> Tuple[Task, ...]:
    return tuple(Task.from_config(c) for c in configs)
