"""Dataset registry: snake_case names -> factories of `DatasetSpec`, an explicit table.

A factory takes options from the config (`data.options`) and returns a `DatasetSpec`
(`data/dataset_spec.py`): which TFDS dataset to read, which splits to use, which tasks it
has and which raw inputs a model takes; so a dataset such as a user's CSV can be described
in YAML. Adding a dataset is one module with its builder and factory, and one line here.

Importing this module imports every dataset module, which registers each TFDS builder
with TFDS (TFDS's own registration): import it before `tfds.load("multi_mnist", ...)` in a
process that needs our builders' code (reading an already built dataset by name works
without it). `data.get_dataset` imports it on first use, so `import data` stays cheap.

Example:
>>> import data
>>> spec = data.get_dataset("multi_mnist")
>>> [t.name for t in spec.tasks]
['left', 'right', 'same_digit']
>>> import data.registry, tensorflow_datasets as tfds
>>> "multi_mnist" in tfds.list_builders()
True
"""

import inspect

from data.catalogue import celeb_a, dsprites, shapes3d, smallnorb
from data.conll2000 import conll2000
from data.conversion_funnel import conversion_funnel
from data.csv_dataset import csv_dataset
from data.dataset_spec import DatasetSpec
from data.mmoe_synthetic import mmoe_synthetic
from data.multi_attribute_shapes import multi_attribute_shapes
from data.multi_fashion import multi_fashion
from data.multi_mnist import multi_mnist
from utils.registry import Registry

DATASETS = Registry("dataset", key="data.name", entries={
    "multi_mnist": multi_mnist,
    "multi_fashion": multi_fashion,
    "multi_attribute_shapes": multi_attribute_shapes,
    "mmoe_synthetic": mmoe_synthetic,
    "conversion_funnel": conversion_funnel,
    "celeb_a": celeb_a,
    "smallnorb": smallnorb,
    "shapes3d": shapes3d,
    "dsprites": dsprites,
    "csv": csv_dataset,
    "conll2000": conll2000,
})


def list_datasets():
    """Names of every registered dataset, sorted."""
    return DATASETS.names()


def get_dataset(name: str, **options) -> DatasetSpec:
    """Returns the spec of dataset `name`; unknown names list the known ones."""
    factory = DATASETS.get(name)
    params = inspect.signature(factory).parameters
    if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
        unknown = sorted(set(options) - set(params))
        if unknown:
            raise ValueError(f"data.options: unknown option(s) {unknown} for dataset {name!r}; "
                             f"valid options: {', '.join(params) or '(none)'}")
    missing = [p.name for p in params.values()
               if p.default is p.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
               and p.name not in options]
    if missing:
        raise ValueError(f"data.options: dataset {name!r} needs option(s) {missing}; "
                         f"valid options: {', '.join(params)}")
    return factory(**options)
