"""`DatasetSpec`: what the pipeline, the model builder and the exporter know of a dataset.

Each dataset module's factory returns one, made from the config's `data.options`
(`data.registry.get_dataset(name, **options)`).

Example:
>>> from data.dataset_spec import DatasetSpec
>>> from inputs import InputSpec
>>> from tasks import Task
>>> spec = DatasetSpec("toy", "toy", tasks=(Task("a", "binary"),), inputs=(InputSpec("x", "numeric"),))
>>> spec.task("a").kind, spec.splits["validation"]
('binary', 'validation')
"""

import dataclasses
from typing import Callable, Dict, Optional, Tuple

from inputs import InputSpec
from tasks import Task


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
        arrays: callable or None. For a dataset generated in memory: `arrays(split)`
            gives the raw examples of `train`, `validation` or `test` as numpy arrays
            ({feature: [N, ...]}), exactly what its TFDS build stores, in file order
            (the one-graph trainer reads them without a TFDS build).
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
    arrays: Optional[Callable] = None

    def task(self, name: str) -> Task:
        for t in self.tasks:
            if t.name == name:
                return t
        raise KeyError(f"{self.name!r} has no task {name!r}; its tasks are: "
                       f"{', '.join(t.name for t in self.tasks)}")
