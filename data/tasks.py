"""Task declarations: the one place that says what a dataset's tasks are.

Every dataset declares its tasks as a tuple of `Task` objects. Heads, losses,
metrics, label masks and exported outputs are all derived from these, so a task's
name is written once and used everywhere (head layer, output key, label key,
metric prefix, serving output).

Missing labels are encoded in the stored data, per kind:
- `binary`, `multiclass`: -1;
- `multilabel`: every entry -1;
- `regression`: NaN.
`label_mask` turns them into a 0/1 mask, and `clean_label` replaces them with a
harmless value so losses stay finite (the mask then zeroes their contribution).

Example:
>>> from data.tasks import Task
>>> Task("left", "multiclass", classes=tuple(str(d) for d in range(10))).num_outputs
10
"""

import dataclasses
from typing import Optional, Sequence, Tuple

KINDS = ("binary", "multilabel", "multiclass", "regression")


@dataclasses.dataclass(frozen=True)
class Task:
    """One prediction target of a multi-task dataset.

    Args:
        name: str. The task's name, used as head name, output key, label key,
            metric prefix and serving output name. snake_case.
        kind: str. One of `binary`, `multilabel`, `multiclass`, `regression`.
        classes: tuple of str. Class names (`multiclass`), label names
            (`multilabel`) or the negative/positive names (`binary`, default
            `("no", "yes")`). Empty for `regression`.
        label_key: str. The feature (a "/"-separated path for nested TFDS
            features) that holds the label; defaults to `name`.
    """

    name: str
    kind: str
    classes: Tuple[str, ...] = ()
    label_key: Optional[str] = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(
                f"Task {self.name!r}: unknown kind {self.kind!r}; valid kinds: {', '.join(KINDS)}"
            )
        if not self.name.isidentifier():
            raise ValueError(f"Task name {self.name!r} must be a valid identifier (snake_case).")
        classes = tuple(str(c) for c in self.classes)
        if self.kind == "binary" and not classes:
            classes = ("no", "yes")
        if self.kind in ("multiclass", "multilabel") and len(classes) < 2:
            raise ValueError(f"Task {self.name!r} ({self.kind}) needs at least 2 class names.")
        if self.kind == "binary" and len(classes) != 2:
            raise ValueError(f"Task {self.name!r} (binary) needs exactly 2 class names.")
        if self.kind == "regression" and classes:
            raise ValueError(f"Task {self.name!r} (regression) takes no class names.")
        object.__setattr__(self, "classes", classes)
        if self.label_key is None:
            object.__setattr__(self, "label_key", self.name)

    @property
    def num_outputs(self) -> int:
        """Width of the head: classes for multiclass/multilabel, else 1."""
        return len(self.classes) if self.kind in ("multiclass", "multilabel") else 1

    def to_config(self) -> dict:
        return {"name": self.name, "kind": self.kind, "classes": list(self.classes),
                "label_key": self.label_key}

    @classmethod
    def from_config(cls, config) -> "Task":
        if isinstance(config, Task):
            return config
        config = dict(config)
        config["classes"] = tuple(config.get("classes", ()))
        return cls(**config)


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
