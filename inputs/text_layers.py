"""Keras layers of the text input kind: whitespace tokenising, lower-casing, the token id
lookup and a character CNN per token, all inside the graph (a client sends a sentence).

`Tokenize`, `Lowercase` and `CharCNN` are registered (`mtl_zoo>...`) for `.keras` files;
`split_tokens` and `token_lengths` also give the served `tokens` and `sequence_length`.

Example:
>>> import tensorflow as tf
>>> from inputs import InputSpec
>>> spec = InputSpec("text", "text", dtype="string", vocabulary=("the", "deficit"))
>>> Tokenize()(tf.constant(["the deficit will narrow", "the"])).numpy().tolist()
[[b'the', b'deficit', b'will', b'narrow'], [b'the', b'', b'', b'']]
>>> tokens, ids = tokens_and_ids(spec, tf.constant(["the deficit will narrow", "the"]))
>>> ids.numpy().tolist()  # 0 padding, 1 out of vocabulary, 2.. the vocabulary
[[2, 3, 1, 1], [2, 0, 0, 0]]
"""

import keras
import tensorflow as tf


def split_tokens(sentences):
    """[batch] sentences -> [batch, longest] tokens, split on whitespace, padded with ""."""
    sentences = tf.convert_to_tensor(sentences)
    return tf.strings.split(sentences).to_tensor("")


def token_lengths(tokens):
    """[batch, tokens] padded with "" -> [batch] int64 counts of real tokens."""
    return tf.reduce_sum(tf.cast(tf.not_equal(tokens, ""), tf.int64), axis=-1)


@keras.saving.register_keras_serializable(package="mtl_zoo")
class Tokenize(keras.layers.Layer):
    """Splits each sentence on whitespace: [batch] strings -> [batch, longest] tokens
    padded with "" (the longest sentence of the batch sets the width).

    Example:
    >>> import tensorflow as tf
    >>> Tokenize()(tf.constant(["a  b", ""])).numpy().tolist()
    [[b'a', b'b'], [b'', b'']]
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._convert_input_args = False  # strings cannot be autocast

    def call(self, sentences):
        return split_tokens(sentences)

    def compute_output_spec(self, sentences):
        return keras.KerasTensor((sentences.shape[0], None), dtype="string")


@keras.saving.register_keras_serializable(package="mtl_zoo")
class Lowercase(keras.layers.Layer):
    """Lower-cases UTF-8 tokens (padding "" stays "")."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._convert_input_args = False

    def call(self, tokens):
        return tf.strings.lower(tokens, encoding="utf-8")

    def compute_output_spec(self, tokens):
        return keras.KerasTensor(tokens.shape, dtype="string")


@keras.saving.register_keras_serializable(package="mtl_zoo")
class CharCNN(keras.layers.Layer):
    """A feature per token from its characters: [batch, tokens] strings -> [batch, tokens,
    filters] floats. The characters (UTF-8 code points, the first `max_chars`) are hashed
    into `buckets` ids (no character vocabulary to keep), embedded (`char_dim`), convolved
    (`width`, tanh) and max-pooled over the token; padding tokens ("") give zeros.

    Example:
    >>> import tensorflow as tf
    >>> CharCNN(filters=4)(tf.constant([["Deficit", "1.8"], ["he", ""]])).shape
    TensorShape([2, 2, 4])
    """

    def __init__(self, filters=32, char_dim=16, buckets=512, width=3, max_chars=24, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.char_dim, self.buckets = int(filters), int(char_dim), int(buckets)
        self.width, self.max_chars = int(width), int(max_chars)
        self._convert_input_args = False

    def build(self, input_shape):
        # Row 0 is the padding character; its embedding is masked out below.
        self.embeddings = self.add_weight(shape=(self.buckets + 1, self.char_dim),
                                          initializer="uniform", name="embeddings")
        self.kernel = self.add_weight(shape=(self.width, self.char_dim, self.filters),
                                      initializer="glorot_uniform", name="kernel")
        self.bias = self.add_weight(shape=(self.filters,), initializer="zeros", name="bias")

    def call(self, tokens):
        chars = tf.strings.unicode_split(tokens, "UTF-8", errors="replace")[:, :, :self.max_chars]
        ids = (tf.strings.to_hash_bucket_fast(chars, self.buckets) + 1).to_tensor(0)
        shape = tf.shape(ids)  # [batch, tokens, longest token]
        flat = tf.reshape(ids, [-1, shape[2]])
        x = tf.gather(self.embeddings, flat) * tf.cast(flat > 0, self.compute_dtype)[..., None]
        x = tf.tanh(tf.nn.conv1d(x, tf.cast(self.kernel, x.dtype), 1, "SAME") + self.bias)
        # Max over real characters only; a token without any (padding) gets 0.
        x = tf.reduce_max(tf.where((flat > 0)[..., None], x, tf.cast(-2.0, x.dtype)), axis=1)
        x = tf.where(tf.reduce_any(flat > 0, axis=1)[:, None], x, tf.zeros_like(x))
        return tf.reshape(x, [shape[0], shape[1], self.filters])

    def compute_mask(self, tokens, mask=None):
        # The padding mask, as the word embedding's: Concatenate keeps a token that ANY of
        # its inputs keeps, so an unmasked feature beside the words would unmask padding.
        return keras.ops.not_equal(tokens, "")

    def compute_output_spec(self, tokens):
        return keras.KerasTensor(tuple(tokens.shape) + (self.filters,), dtype=self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "char_dim": self.char_dim,
                "buckets": self.buckets, "width": self.width, "max_chars": self.max_chars}


def tokens_and_ids(spec, x):
    """A text input's raw sentences or tokens `x` -> (tokens: [batch, T] strings padded with
    "", ids: [batch, T] vocabulary ids: 0 padding, 1 out of vocabulary, 2.. the vocabulary),
    through new layers named after the input (`<name>_tokenize`, `_lowercase`, `_lookup`)."""
    tokenize = Tokenize(name=f"{spec.name}_tokenize") if not spec.shape else None
    lower = Lowercase(name=f"{spec.name}_lowercase") if spec.lowercase else None
    lookup = keras.layers.StringLookup(vocabulary=list(spec.vocabulary), mask_token="",
                                       num_oov_indices=1, name=f"{spec.name}_lookup")
    tokens = tokenize(x) if tokenize is not None else x
    return tokens, lookup(lower(tokens) if lower is not None else tokens)
