"""Multi-task datasets as TFDS builders, and the `tf.data` pipelines that feed models.

Importing this package is cheap (no TensorFlow, no TFDS): `data.get_dataset` and
`data.list_datasets` import the registry (`data/registry.py`, which imports every dataset
module and so registers their TFDS builders) on first use. Datasets declare their tasks
and inputs with the layers below (`tasks.Task`, `inputs.InputSpec`).

Example:
>>> import data
>>> "csv" in data.list_datasets()
True
"""

_REGISTRY_NAMES = ("get_dataset", "list_datasets", "DATASETS")


def __getattr__(name):
    # The registry imports TFDS and every builder: only when a dataset is asked for.
    if name in _REGISTRY_NAMES:
        from data import registry
        return getattr(registry, name)
    raise AttributeError(f"module 'data' has no attribute {name!r}")
