"""Optimizer registry: `train.optimizer` names -> Keras optimizer classes.

Example:
>>> from training.optimizers import make_optimizer
>>> type(make_optimizer("sgd", 0.1)).__name__
'SGD'
"""

import keras

from utils.registry import Registry

OPTIMIZERS = Registry("optimizer", key="train.optimizer")
OPTIMIZERS.register("adam", keras.optimizers.Adam)
OPTIMIZERS.register("adamw", keras.optimizers.AdamW)
OPTIMIZERS.register("rmsprop", keras.optimizers.RMSprop)
OPTIMIZERS.register("sgd", keras.optimizers.SGD)


def list_optimizers():
    return OPTIMIZERS.names()


def make_optimizer(name, learning_rate):
    """A fresh optimizer `name` with `learning_rate` (create it under the strategy scope)."""
    return OPTIMIZERS.get(name)(learning_rate=learning_rate)
