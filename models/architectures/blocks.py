"""Building blocks shared by the architectures: dense stacks and per-task towers.

Example:
>>> import keras
>>> from models.architectures.blocks import dense_stack
>>> dense_stack(keras.Input((8,)), [16, 4], "tower_a").shape
(None, 4)
"""

import keras


def dense_stack(x, units, name):
    """ReLU dense layers `<name>_0`, `<name>_1`, ... of widths `units` on `x`."""
    for i, u in enumerate(units):
        x = keras.layers.Dense(int(u), activation="relu", name=f"{name}_{i}")(x)
    return x


def towers_on(shared, tasks, tower_units, prefix="tower"):
    """Per-task dense towers on top of one shared tensor."""
    return {task.name: dense_stack(shared, tower_units, f"{prefix}_{task.name}") for task in tasks}
