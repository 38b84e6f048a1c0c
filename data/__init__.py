"""Multi-task datasets as TFDS builders, and the `tf.data` pipelines that feed models.

Importing this package is cheap (no TensorFlow, no TFDS): it gives the registry
(`get_dataset`, `list_datasets`). The builders are imported, and registered with TFDS,
by `data.builders`, which the registry loads on first use. Datasets declare their tasks
and inputs with the layers below (`tasks.Task`, `inputs.InputSpec`).
"""

from data.registry import DatasetSpec, get_dataset, list_datasets, register_dataset  # noqa: F401
