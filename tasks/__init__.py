"""Tasks: what a multi-task model predicts, one class per task kind.

The layer below `data/` (datasets declare their tasks) and `models/` (heads, losses,
metrics, served outputs come from the tasks). Importing it does not import TensorFlow.

- `base.py`: `TaskKind`, the members every kind must have (abstract);
- `binary.py`, `multiclass.py`, `multilabel.py`, `regression.py`, `token_multiclass.py`:
  one kind each; `classes.py`, `losses.py`, `cells.py`: what several kinds share;
  `spans.py`, `span_metric.py`: chunk scoring as conlleval (token kinds); `tag_schemes.py`:
  IOB1, IOB2, BIOES conversion and checks;
- `registry.py`: the kinds by name; `task.py`: `Task(name, kind, ...)`, task selection and
  config round trip, the direction of a monitored metric; `metrics.py`: metrics over
  whole predictions that no single kind owns (entire-space funnel metrics).

Example:
>>> from tasks import Task, list_kinds
>>> type(Task("churned", "binary")).__name__, "regression" in list_kinds()
('BinaryTask', True)
"""

from tasks.base import TaskKind  # noqa: F401
from tasks.binary import BinaryTask  # noqa: F401
from tasks.multiclass import MulticlassTask  # noqa: F401
from tasks.multilabel import MultilabelTask  # noqa: F401
from tasks.regression import RegressionTask  # noqa: F401
from tasks.registry import TASK_KINDS, list_kinds  # noqa: F401
from tasks.task import (  # noqa: F401
    Task, higher_is_better, monitor_names, select_tasks, tasks_from_config, tasks_to_config)
from tasks.token_multiclass import TokenMulticlassTask  # noqa: F401
