"""Imports every dataset module: each registers its TFDS builder(s) with TFDS and its
dataset(s) with our registry. `data.get_dataset` imports this on first use; import it
yourself before `tfds.load("multi_mnist", ...)` in a process that needs our builders'
code (reading an already built dataset by name works without it).

Example:
>>> import data.builders
>>> import tensorflow_datasets as tfds
>>> "multi_mnist" in tfds.list_builders()
True
"""

from data import multi_mnist  # noqa: F401
from data import multi_fashion  # noqa: F401
from data import multi_attribute_shapes  # noqa: F401
from data import mmoe_synthetic  # noqa: F401
from data import conversion_funnel  # noqa: F401
from data import catalogue  # noqa: F401
from data import csv_dataset  # noqa: F401
from data import conll2000  # noqa: F401
