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

from data.catalogue import celeb_a, dsprites, shapes3d, smallnorb
from data.conll2000 import conll2000
from data.conversion_funnel import conversion_funnel
from data.csv_dataset import csv_dataset
from data.dataset_spec import DatasetSpec
from data.digits import mnist_digits, uci_digits
from data.mmoe_synthetic import mmoe_synthetic
from data.multi_attribute_shapes import multi_attribute_shapes
from data.multi_fashion import multi_fashion
from data.multi_mnist import multi_mnist
from data.planted_groups import planted_groups
from data.tagged.dataset import conll
from utils.arguments import check_arguments
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
    "table": csv_dataset,
    "conll2000": conll2000,
    "conll": conll,
    "planted_groups": planted_groups,
    "mnist_digits": mnist_digits,
    "uci_digits": uci_digits,
})


def list_datasets():
    """Names of every registered dataset, sorted."""
    return DATASETS.names()


def get_dataset(name: str, **options) -> DatasetSpec:
    """Returns the spec of dataset `name`; unknown names list the known ones, and the
    options are checked against what the dataset declares (`python train.py --list NAME`)."""
    factory = DATASETS.get(name)
    options = check_arguments(factory, options, "data.options", what=f"dataset {name!r}")
    return factory(**options)
