"""Text inputs inside the graph: a sentence (or its tokens) -> masked token embeddings.

A `text` input (`data.inputs.InputSpec`, kind `text`) arrives as raw UTF-8: a sentence
per example (shape `()`), split on whitespace inside the model (`Tokenize`), or its
tokens already split (shape `(None,)`, padded with ""). The tokens are lower-cased
when the spec says so, looked up in the training vocabulary (`StringLookup`: "" is
the padding id 0, every unknown token shares one out-of-vocabulary id) and embedded
with `mask_zero`, so padding carries a Keras mask that the text encoders (BiLSTM,
Transformer) respect. With `char_features` > 0, each token also gets a character CNN
feature (`CharCNN`: its characters hashed, embedded, convolved, max-pooled; Ma & Hovy,
2016), concatenated to the word embedding, so an out-of-vocabulary word keeps its
spelling (suffixes, capitals, digits). Everything is in the exported graph: a client
sends a sentence.

Whitespace is the tokeniser because tagged corpora come tokenised (CoNLL-2000's
tokens never hold a space): a served sentence must be spaced as the corpus is
(`He reckons the current account deficit will narrow to only # 1.8 billion .`); a
smarter splitter in the graph would cut training tokens such as `U.S.` apart from
their tags.

`text_outputs` gives the served `tokens` (the split sentence, padded with "") and
`sequence_length` (tokens per example), so an answer can be read per token and its
padding trimmed (our REST server trims row-format answers with it).

Example:
>>> import tensorflow as tf
>>> from data.inputs import InputSpec
>>> spec = InputSpec("text", "text", dtype="string", vocabulary=("the", "deficit"))
>>> Tokenize()(tf.constant(["the deficit will narrow", "the"])).numpy().tolist()
[[b'the', b'deficit', b'will', b'narrow'], [b'the', b'', b'', b'']]
>>> ids = TokenIds(spec)(tf.constant(["the deficit will narrow", "the"]))
>>> ids.numpy().tolist()  # 0 padding, 1 out of vocabulary, 2.. the vocabulary
[[2, 3, 1, 1], [2, 0, 0, 0]]
"""

import keras
import tensorflow as tf

DEFAULT_EMBEDDING_DIM = 64


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


def _token_layers(spec, name):
    """(tokenize or None, lowercase or None, lookup) of a text spec."""
    tokenize = Tokenize(name=f"{name}_tokenize") if not spec.shape else None
    lower = Lowercase(name=f"{name}_lowercase") if spec.lowercase else None
    lookup = keras.layers.StringLookup(vocabulary=list(spec.vocabulary), mask_token="",
                                       num_oov_indices=1, name=f"{name}_lookup")
    return tokenize, lower, lookup


def TokenIds(spec, name=None):  # noqa: N802 - a layer factory, read like a layer
    """The spec's token lookup as one callable: sentence or tokens -> [batch, tokens] ids
    (0 padding, 1 out of vocabulary, 2.. the vocabulary)."""
    tokenize, lower, lookup = _token_layers(spec, name or spec.name)

    def ids(x):
        tokens = tokenize(x) if tokenize is not None else x
        return lookup(lower(tokens) if lower is not None else tokens)
    return ids


def check_text_spec(spec):
    if spec.dtype != "string":
        raise ValueError(f"Input {spec.name!r} (text): dtype must be 'string'; got {spec.dtype!r}")
    if tuple(spec.shape) not in ((), (None,)):
        raise ValueError(f"Input {spec.name!r} (text): shape must be () for a sentence or "
                         f"(None,) for its tokens; got {spec.shape}")
    if not spec.vocabulary:
        raise ValueError(f"Input {spec.name!r} (text): needs a vocabulary (from the training "
                         "split)")
    if "" in spec.vocabulary:
        raise ValueError(f"Input {spec.name!r} (text): the empty token is padding; remove it "
                         "from the vocabulary")


def preprocess_text(x, spec):
    """Raw sentences or tokens -> [batch, tokens, embedding_dim (+ char_features)] features
    with a padding mask (Keras `mask_zero`)."""
    check_text_spec(spec)
    tokenize, lower, lookup = _token_layers(spec, spec.name)
    tokens = tokenize(x) if tokenize is not None else x
    ids = lookup(lower(tokens) if lower is not None else tokens)
    dim = int(spec.embedding_dim or DEFAULT_EMBEDDING_DIM)
    # +2: id 0 is padding (masked), id 1 the out-of-vocabulary bucket.
    words = keras.layers.Embedding(len(spec.vocabulary) + 2, dim, mask_zero=True,
                                   name=f"{spec.name}_embed")(ids)
    if not spec.char_features:
        return words
    # Characters of the tokens as written (capitals are a strong tag cue, even when the
    # word lookup is lower-cased); the word embedding's padding mask carries through.
    chars = CharCNN(filters=spec.char_features, name=f"{spec.name}_chars")(tokens)
    return keras.layers.Concatenate(name=f"{spec.name}_features")([words, chars])


def text_outputs(spec, x):
    """The served `tokens` ([batch, tokens] strings, padded with "") and `sequence_length`
    ([batch] int64) of a text input's raw values `x`."""
    tokens = split_tokens(x) if not spec.shape else tf.convert_to_tensor(x)
    return {"tokens": tokens, "sequence_length": token_lengths(tokens)}
