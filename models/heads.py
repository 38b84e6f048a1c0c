"""Heads: one output layer per task, following the task's kind.

binary -> 1 sigmoid unit; multilabel -> one sigmoid per label; multiclass ->
softmax over the classes; regression -> 1 linear unit. The layer is named after
the task, so the model output, label, metric and serving output share one name.

Example:
>>> from data.tasks import Task
>>> from models.heads import make_head
>>> make_head(Task("smiling", "binary")).activation.__name__
'sigmoid'
"""

import keras

ACTIVATIONS = {"binary": "sigmoid", "multilabel": "sigmoid", "multiclass": "softmax",
               "regression": "linear"}


def make_head(task):
    """The output layer of `task`: a Dense layer named `task.name`."""
    return keras.layers.Dense(task.num_outputs, activation=ACTIVATIONS[task.kind], name=task.name,
                              dtype="float32")
