"""A module imported on first use, so that a light module can name a heavy one.

The task and input kinds (`tasks/`, `inputs/`) are read by code that must stay quick
and free of TensorFlow (a config check, `python -m data.csv_schema`, dataset
declarations), while their heads, losses and layers need TensorFlow and Keras. A
`LazyModule` stands at the top of such a module in place of the import: the first
attribute read imports the real module (then it is one dictionary lookup away).

Example:
>>> import sys
>>> from utils.lazy import LazyModule
>>> json = LazyModule("json")
>>> json.dumps([1])
'[1]'
>>> LazyModule("no_such_module").x
Traceback (most recent call last):
...
ModuleNotFoundError: No module named 'no_such_module'
"""

import importlib


class LazyModule:
    """Stands for module `name`, imported when one of its attributes is first read.

    Args:
        name: str. The module's import path (`"tensorflow"`).
    """

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attribute):
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self):
        return f"LazyModule({self._name!r})"
