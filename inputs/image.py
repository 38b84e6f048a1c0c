"""`image`: pixels 0-`max_value` (uint8 by default), rescaled to 0-1 inside the model.

Resized inside the model when the spec gives `resize` (the served model still takes the
raw size). A `tf.Example` carries it as encoded PNG/JPEG bytes. A model with an image
input takes only that input.

Example:
>>> import numpy as np
>>> from inputs import InputSpec
>>> image = InputSpec("image", "image", shape=(28, 28, 1), dtype="uint8")
>>> image.is_column, image.sample(2, np.random.default_rng(0)).shape
(False, (2, 28, 28, 1))
"""

from inputs.base import InputKind
from utils.lazy import LazyModule

tf = LazyModule("tensorflow")
keras = LazyModule("keras")


class ImageInput(InputKind):
    """An image of `shape` (height, width, channels) pixels."""

    is_column = False

    def preprocess(self, x, tables=None):
        max_value = self.max_value if self.max_value is not None else 255.0
        x = keras.layers.Rescaling(1.0 / float(max_value), name=f"{self.name}_rescale")(x)
        if self.resize:
            x = keras.layers.Resizing(*self.resize, name=f"{self.name}_resize")(x)
        return x

    def example_feature(self):
        return tf.io.FixedLenFeature([], tf.string, default_value="")

    def from_example(self, value):
        dtype = tf.as_dtype(self.dtype)

        def decode(encoded):
            pixels = tf.io.decode_image(encoded, channels=self.shape[-1], expand_animations=False)
            return tf.reshape(tf.cast(pixels, dtype), self.shape)
        return tf.map_fn(decode, value, fn_output_signature=tf.TensorSpec(self.shape, dtype))

    def sample(self, n, rng):
        return rng.integers(0, 256, size=(n,) + tuple(self.shape)).astype(self.dtype)

    def stored_values(self, cells, column, where):
        raise ValueError(f"input {self.name!r}: an image is not read from a table column")
