"""Keras layers of the tabular input kinds' preprocessing: imputing missing cells,
stripping whitespace, splitting a list cell and pooling a list's embeddings, inside the
graph (so a served model takes a file's raw cells).

Registered as `mtl_zoo>Impute`, `mtl_zoo>StripWhitespace`, `mtl_zoo>SplitCells` and
`mtl_zoo>MaskedPool` for `.keras` files.
"""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="mtl_zoo")
class Impute(keras.layers.Layer):
    """Replaces missing raw values by `fill_value`: NaN numbers; strings that are empty
    or one of `missing_values` once stripped of ASCII whitespace.

    Args:
        fill_value: float or str. The value put where the input is missing.
        missing_values: list of str. Strings meaning "missing" besides "" (a CSV's
            `na_values`, e.g. `["?", "NA"]`), compared after stripping.

    Example:
    >>> import tensorflow as tf
    >>> Impute(2.5)(tf.constant([1.0, float("nan")])).numpy().tolist()
    [1.0, 2.5]
    >>> Impute("a", missing_values=["?"])(tf.constant(["b", " ? ", " "])).numpy().tolist()
    [b'b', b'a', b'a']
    """

    def __init__(self, fill_value, missing_values=(), **kwargs):
        super().__init__(**kwargs)
        self.fill_value = fill_value
        self.missing_values = [str(v) for v in missing_values]
        # Strings cannot be autocast; keep the layer out of mixed precision.
        self._convert_input_args = False

    def call(self, x):
        x = tf.convert_to_tensor(x)
        if x.dtype == tf.string:
            stripped = tf.strings.strip(x)
            missing = tf.equal(stripped, "")
            for value in self.missing_values:
                missing = tf.logical_or(missing, tf.equal(stripped, value))
            return tf.where(missing, tf.constant(str(self.fill_value)), x)
        x = tf.cast(x, tf.float32)
        return tf.where(tf.math.is_nan(x), tf.constant(float(self.fill_value), tf.float32), x)

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, x):
        dtype = "string" if x.dtype == "string" else "float32"
        return keras.KerasTensor(x.shape, dtype=dtype)

    def get_config(self):
        return {**super().get_config(), "fill_value": self.fill_value,
                "missing_values": list(self.missing_values)}


@keras.saving.register_keras_serializable(package="mtl_zoo")
class StripWhitespace(keras.layers.Layer):
    """Strips leading and trailing ASCII whitespace (space, \\t, \\n, \\v, \\f, \\r) from
    strings: the normalisation a CSV's `strip_whitespace` applies to training cells
    (`pyarrow.compute.ascii_trim_whitespace`, the same characters), kept in the graph so a
    served model takes cells exactly as they are in the file.

    Example:
    >>> import tensorflow as tf
    >>> StripWhitespace()(tf.constant([" Self-employed ", "a"])).numpy().tolist()
    [b'Self-employed', b'a']
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._convert_input_args = False

    def call(self, x):
        return tf.strings.strip(x)

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, x):
        return keras.KerasTensor(x.shape, dtype="string")


@keras.saving.register_keras_serializable(package="mtl_zoo")
class SplitCells(keras.layers.Layer):
    """Splits each text cell at `separator`: [batch] strings -> [batch, longest] items padded
    with "" (a CSV cell holding a list, `i1|i7`).

    Example:
    >>> import tensorflow as tf
    >>> SplitCells("|")(tf.constant(["a|b", ""])).numpy().tolist()
    [[b'a', b'b'], [b'', b'']]
    """

    def __init__(self, separator, **kwargs):
        super().__init__(**kwargs)
        self.separator = str(separator)
        self._convert_input_args = False

    def call(self, x):
        return tf.strings.split(x, sep=self.separator).to_tensor("")

    def compute_output_spec(self, x):
        return keras.KerasTensor((x.shape[0], None), dtype="string")

    def get_config(self):
        return {**super().get_config(), "separator": self.separator}


@keras.saving.register_keras_serializable(package="mtl_zoo")
class MaskedPool(keras.layers.Layer):
    """The mean or sum over a list of the embeddings of its real items: [embeddings [batch,
    items, dim], items [batch, items] strings] -> [batch, dim]; items that are "" (padding,
    empty ids) are left out, an empty list gives zeros.

    Example:
    >>> import tensorflow as tf
    >>> x = tf.constant([[[1.0], [3.0], [5.0]]])
    >>> MaskedPool("mean")([x, tf.constant([["a", "b", ""]])]).numpy().tolist()
    [[2.0]]
    """

    def __init__(self, mode="mean", **kwargs):
        super().__init__(**kwargs)
        self.mode = str(mode)
        self._convert_input_args = False

    def call(self, inputs):
        embeddings, items = inputs
        keep = tf.cast(tf.not_equal(items, ""), embeddings.dtype)[..., None]
        total = tf.reduce_sum(embeddings * keep, axis=1)
        if self.mode == "sum":
            return total
        return total / tf.maximum(tf.reduce_sum(keep, axis=1), 1.0)

    def compute_mask(self, inputs, mask=None):
        return None  # one vector per example: nothing left to mask

    def compute_output_spec(self, inputs):
        embeddings = inputs[0]
        return keras.KerasTensor((embeddings.shape[0], embeddings.shape[-1]),
                                 dtype=embeddings.dtype)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
