"""The task kinds by name: an explicit table, `kind` in configs and saved models.

Adding a kind is one module with its class (a `tasks.base.TaskKind`) and one line
here. A kind may also be registered at run time (`TASK_KINDS.register(name, cls)`),
e.g. by a test or a plugin.

Example:
>>> from tasks.registry import TASK_KINDS, list_kinds
>>> list_kinds()
['binary', 'multiclass', 'multilabel', 'regression', 'token_multiclass']
>>> TASK_KINDS.get("ordinal")
Traceback (most recent call last):
...
ValueError: kind: unknown task kind 'ordinal'; known task kinds: binary, multiclass, multilabel, regression, token_multiclass
"""

from tasks.binary import BinaryTask
from tasks.multiclass import MulticlassTask
from tasks.multilabel import MultilabelTask
from tasks.regression import RegressionTask
from tasks.token_multiclass import TokenMulticlassTask
from utils.registry import Registry

TASK_KINDS = Registry("task kind", key="kind", entries={
    "binary": BinaryTask,
    "multiclass": MulticlassTask,
    "multilabel": MultilabelTask,
    "regression": RegressionTask,
    "token_multiclass": TokenMulticlassTask,
})


def list_kinds():
    """Every registered kind's name, sorted."""
    return TASK_KINDS.names()
