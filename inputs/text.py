"""`text`: a sentence (or its tokens) -> masked token embeddings, inside the graph.

A text input arrives as raw UTF-8: a sentence per example (shape `()`), split on
whitespace inside the model (`Tokenize`), or its tokens already split (shape `(None,)`,
padded with ""). The tokens are lower-cased when the spec says so, looked up in the
training vocabulary (`StringLookup`: "" is the padding id 0, every unknown token shares
one out-of-vocabulary id) and embedded with `mask_zero`, so padding carries a Keras mask
that the text encoders (BiLSTM, Transformer) respect. With `char_features` > 0, each token
also gets a character CNN feature (`CharCNN`: its characters hashed, embedded, convolved,
max-pooled; Ma & Hovy, 2016), concatenated to the word embedding, so an out-of-vocabulary
word keeps its spelling (suffixes, capitals, digits). Everything is in the exported graph:
a client sends a sentence. A model with a text input takes only that input.

As a table column (`pooling: mean` or `sum`), a text input is one more column: the
embeddings of its real tokens are pooled into one vector (padding left out), joined with
the other columns' features, for per-example tasks (topic, sentiment, tags of a review).

Whitespace is the tokeniser because tagged corpora come tokenised (CoNLL-2000's tokens
never hold a space): a served sentence must be spaced as the corpus is (`He reckons the
current account deficit will narrow to only # 1.8 billion .`); a smarter splitter in the
graph would cut training tokens such as `U.S.` apart from their tags.

The export serves `tokens` (the split sentence, padded with "") and `sequence_length`
(tokens per example) beside the answers, so an answer can be read per token and its
padding trimmed (our REST server trims row-format answers with it). A `tf.Example`
carries a sentence as one bytes_list entry, tokens as one entry per token.

Example:
>>> import numpy as np
>>> from inputs import InputSpec
>>> text = InputSpec("text", "text", dtype="string", vocabulary=("the", "deficit"))
>>> text.is_column, text.sample(2, np.random.default_rng(1)).tolist()
(False, ['deficit <unseen-word> <unseen-word>', 'the'])
>>> sorted(text.served_outputs(np.array(["the deficit  will", "the"], dtype=object)))
['sequence_length', 'tokens']
"""

import dataclasses
from typing import Optional

import numpy as np

from inputs.base import InputKind
from utils.lazy import LazyModule

tf = LazyModule("tensorflow")
keras = LazyModule("keras")

DEFAULT_EMBEDDING_DIM = 64


@dataclasses.dataclass(frozen=True)
class TextInput(InputKind):
    """A sentence per example (shape `()`) or its tokens (shape `(None,)`).

    Args (besides `inputs.base.InputKind`'s):
        pooling: str or None. `mean` or `sum`: a table column, its token embeddings pooled
            into one vector beside the other columns'; None: the model's only input, one
            feature per token.
    """

    pooling: Optional[str] = None

    @property
    def is_column(self):
        return self.pooling is not None

    def check(self):
        """Raises ValueError when the spec cannot make a text input."""
        if self.dtype != "string":
            raise ValueError(f"Input {self.name!r} (text): dtype must be 'string'; got "
                             f"{self.dtype!r}")
        if tuple(self.shape) not in ((), (None,)):
            raise ValueError(f"Input {self.name!r} (text): shape must be () for a sentence or "
                             f"(None,) for its tokens; got {self.shape}")
        if not self.vocabulary:
            raise ValueError(f"Input {self.name!r} (text): needs a vocabulary (from the "
                             "training split)")
        if "" in self.vocabulary:
            raise ValueError(f"Input {self.name!r} (text): the empty token is padding; remove "
                             "it from the vocabulary")
        if self.pooling not in (None, "mean", "sum"):
            raise ValueError(f"Input {self.name!r} (text): pooling must be mean, sum or None; "
                             f"got {self.pooling!r}")

    def preprocess(self, x, tables=None):
        """Raw sentences or tokens -> [batch, tokens, embedding_dim (+ char_features)]
        features with a padding mask (Keras `mask_zero`), or with `pooling` their pooled
        [batch, features] vector."""
        from inputs.layers import MaskedPool
        from inputs.text_layers import CharCNN, tokens_and_ids
        self.check()
        tokens, ids = tokens_and_ids(self, x)
        dim = int(self.embedding_dim or DEFAULT_EMBEDDING_DIM)
        # +2: id 0 is padding (masked), id 1 the out-of-vocabulary bucket.
        features = keras.layers.Embedding(len(self.vocabulary) + 2, dim, mask_zero=True,
                                          name=f"{self.name}_embed")(ids)
        if self.char_features:
            # Characters of the tokens as written (capitals are a strong tag cue, even when
            # the word lookup is lower-cased); the word embedding's padding mask carries on.
            chars = CharCNN(filters=self.char_features, name=f"{self.name}_chars")(tokens)
            features = keras.layers.Concatenate(name=f"{self.name}_features")([features, chars])
        if self.pooling:
            return MaskedPool(self.pooling, name=f"{self.name}_pool")([features, tokens])
        return features

    def served_outputs(self, x):
        """The served `tokens` ([batch, tokens] strings, padded with "") and
        `sequence_length` ([batch] int64) of raw values `x`; none for a pooled column (its
        answers are per example)."""
        from inputs.text_layers import split_tokens, token_lengths
        if self.pooling:
            return {}
        tokens = split_tokens(x) if not self.shape else tf.convert_to_tensor(x)
        return {"tokens": tokens, "sequence_length": token_lengths(tokens)}

    def describe(self):
        dim = int(self.embedding_dim or DEFAULT_EMBEDDING_DIM)
        pooled = f", {self.pooling} of its tokens" if self.pooling else ""
        lower = ", lower-cased" if self.lowercase else ""
        return f"text: vocabulary of {len(self.vocabulary):,} tokens{lower}, {dim} wide{pooled}"

    def example_feature(self):
        if self.shape:
            return tf.io.RaggedFeature(tf.string)  # one bytes_list entry per token
        return tf.io.FixedLenFeature([], tf.string, default_value="")

    def from_example(self, value):
        if isinstance(value, tf.RaggedTensor):
            return value.to_tensor("")  # tokens, padded as `serving_default` takes them
        return tf.cast(value, tf.string)

    def sample(self, n, rng):
        """`n` sentences of 1-5 tokens from the vocabulary plus an unknown word; as strings
        (a sentence input) or [n, longest] tokens padded with "" (a tokens input)."""
        words = list(self.vocabulary) + ["<unseen-word>"]
        sentences = [[words[i] for i in rng.integers(0, len(words), int(rng.integers(1, 6)))]
                     for _ in range(n)]
        if not self.shape:
            return np.array([" ".join(t) for t in sentences], dtype=object)
        longest = max(len(t) for t in sentences)
        return np.array([t + [""] * (longest - len(t)) for t in sentences], dtype=object)

    def stored_values(self, cells, column, where):
        if self.shape:
            raise ValueError(f"input {self.name!r}: tokens are not read from one table cell; "
                             "store the sentence (shape ())")
        values, missing = cells.text(column)
        text = values.to_numpy(zero_copy_only=False).astype(object)
        text[missing] = ""
        return text
