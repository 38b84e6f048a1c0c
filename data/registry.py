"""Dataset registry: snake_case names -> `DatasetSpec` factories.

A `DatasetSpec` says which TFDS dataset to read, which splits to use, which
tasks it has and which raw inputs a model takes. Factories take options from the
config (`data.options`), so a dataset such as a user's CSV can be described in
YAML.

Example:
>>> import data
>>> spec = data.get_dataset("multi_mnist")
>>> [t.name for t in spec.tasks]
['left', 'right', 'same_digit']
"""

import dataclasses
import inspect
from typing import Callable, Dict, Optional, Tuple

from inputs import InputSpec
from tasks import Task
from utils.registry import Registry


def _load_builders():
    from data import builders  # noqa: F401  (each dataset module registers itself)


DATASETS = Registry("dataset", key="data.name", loader=_load_builders)


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """What the pipeline, the model builder and the exporter need to know of a dataset.

    Args:
        name: str. Registry name.
        tfds_name: str. Name given to `tfds.builder` (may include a config, "a/b").
        tasks: tuple of `Task`. Every task the dataset offers.
        inputs: tuple of `InputSpec`. The raw model inputs.
        splits: dict. Maps `train`, `validation`, `test` to TFDS split strings;
            a missing `validation` falls back to a slice of train.
        prepare: callable or None. Builds the dataset offline when it is missing
            (`prepare(data_dir)`); None means `download_and_prepare()`.
        preprocess: callable or None. Maps a raw TFDS example to a flat dict
            holding the inputs and every task's `label_key` (e.g. to rename a
            catalogue dataset's features); None when the features already fit.
        builder_kwargs: dict or None. Extra arguments of `tfds.builder`, e.g.
            `{"config": SomeBuilderConfig(...)}` for a config made from options.
        cache: bool. Whether the pipeline caches decoded examples in memory
            (off for datasets too large for memory, e.g. `celeb_a`).
        description: str. One line shown by docs and `list_datasets`.
    """

    name: str
    tfds_name: str
    tasks: Tuple[Task, ...]
    inputs: Tuple[InputSpec, ...]
    splits: Dict[str, str] = dataclasses.field(
        default_factory=lambda: {"train": "train", "validation": "validation", "test": "test"})
    prepare: Optional[Callable] = None
    preprocess: Optional[Callable] = None
    builder_kwargs: Optional[dict] = None
    cache: bool = True
    description: str = ""

    def task(self, name: str) -> Task:
        for t in self.tasks:
            if t.name == name:
                return t
        raise KeyError(f"{self.name!r} has no task {name!r}; its tasks are: "
                       f"{', '.join(t.name for t in self.tasks)}")


def register_dataset(name: str):
    """Decorator registering a factory `f(**options) -> DatasetSpec` under `name`."""

    return DATASETS.register(name)


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
