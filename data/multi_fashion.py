"""`multi_fashion`: two overlaid Fashion-MNIST items per image, built like `multi_mnist`.

The construction is `multi_mnist`'s (see `data.multi_mnist.MultiDigitBuilder`):
one item towards the top-left and one towards the bottom-right of a 36x36
canvas, jittered and shrunk to 28x28. Tasks:

- `left`: the top-left item (multiclass, the 10 Fashion-MNIST classes);
- `right`: the bottom-right item (multiclass);
- `same_item`: whether both items are of the same class (binary).

Its source is TFDS `fashion_mnist`, which is downloaded into the same
`data_dir` the first time (internet access needed); after that it builds
offline. Without internet, tests build it from `tfds.testing.mock_data`.

Example (needs internet once, for `fashion_mnist`):
>>> import data.registry, tensorflow_datasets as tfds
>>> ds = tfds.load("multi_fashion", split="test[:4]", data_dir="tfds_data")  # doctest: +SKIP
>>> sorted(next(iter(ds)).keys())  # doctest: +SKIP
['image', 'left', 'right', 'same_item']
"""

from data.multi_mnist import MultiDigitBuilder, MultiDigitConfig, digit_spec
from data.options import TEST_SIZE, TRAIN_SIZE, VALIDATION_SIZE
from utils.arguments import Arg, arguments

FASHION_CLASSES = ("t_shirt_top", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
                   "sneaker", "bag", "ankle_boot")


class MultiFashion(MultiDigitBuilder):
    """Two overlaid Fashion-MNIST items per 28x28 image; tasks `left`, `right`, `same_item`."""

    CLASS_NAMES = FASHION_CLASSES
    CATALOGUE_SOURCE = "fashion_mnist"
    SAME_TASK = "same_item"
    BUILDER_CONFIGS = [
        MultiDigitConfig(name="fashion_mnist", source="tfds",
                         sizes={"train": 60000, "validation": 10000, "test": 10000},
                         description="Fashion-MNIST from TFDS (downloads fashion_mnist if needed)."),
    ]


@arguments(config=Arg(str, "the source: Fashion-MNIST from TFDS", choices=("fashion_mnist",)),
           train_size=TRAIN_SIZE, validation_size=VALIDATION_SIZE, test_size=TEST_SIZE)
def multi_fashion(config: str = "fashion_mnist", train_size: int = None,
                  validation_size: int = None, test_size: int = None):
    """Spec of `multi_fashion`; sizes default to 60,000 / 10,000 / 10,000 composites."""
    return digit_spec("multi_fashion", MultiFashion, config,
                      {"train": train_size, "validation": validation_size, "test": test_size},
                      "Two overlaid Fashion-MNIST items (source: TFDS fashion_mnist).")
