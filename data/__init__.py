"""Multi-task datasets as TFDS builders, and the `tf.data` pipelines that feed models.

Importing this package registers every builder with TFDS (so
`tfds.load("multi_mnist")` works) and with our dataset registry.
"""

from data.registry import DatasetSpec, get_dataset, list_datasets, register_dataset  # noqa: F401
from data.tasks import Task, select_tasks  # noqa: F401
from data.inputs import InputSpec  # noqa: F401
# Each import registers its builder(s) with TFDS and its dataset(s) with our registry.
from data import multi_mnist  # noqa: F401
from data import multi_fashion  # noqa: F401
from data import multi_attribute_shapes  # noqa: F401
from data import mmoe_synthetic  # noqa: F401
from data import catalogue  # noqa: F401
from data import csv_dataset  # noqa: F401
