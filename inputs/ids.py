"""Ids -> embedding rows: the one mapping the id kinds share (`categorical`, `hashed`,
`id_list`), so that inputs holding the same ids can share one table (`shared_embedding`).

An id is hashed into `num_buckets` rows (`keras.layers.Hashing`: FarmHash64 of the id's
bytes, the same in every process, on every machine, at training time and in the exported
graph; no vocabulary to keep), or looked up in a vocabulary, the first `num_oov_buckets`
rows shared by every id outside it (hashed among them). A list's padding ("") gets a row
too, which the list kind masks out.

Example:
>>> import tensorflow as tf
>>> from inputs import InputSpec
>>> from inputs.ids import id_rows
>>> user = InputSpec("user", "hashed", dtype="string", num_buckets=100)
>>> rows, size = id_rows(user, tf.constant(["u1", "u2", "u1"]))
>>> size, bool(rows.numpy()[0] == rows.numpy()[2])
(100, True)
"""

import math

from utils.lazy import LazyModule

keras = LazyModule("keras")


def default_embedding_dim(rows):
    """Width of an id's embedding: a common rule of thumb, growing slowly with the number of
    rows, 2 to 16."""
    return max(2, min(16, int(math.ceil(1.6 * rows ** 0.56))))


def table_rows(spec):
    """Rows of an id input's embedding table: its buckets, or OOV buckets + vocabulary."""
    buckets = getattr(spec, "num_buckets", 0)
    return buckets if buckets else len(spec.vocabulary) + spec.num_oov_buckets


def describe_ids(spec):
    """`hashing into 100,000 buckets, 16 wide` / `vocabulary of 120 + 1 OOV, 8 wide`, and
    the shared table's name."""
    rows = table_rows(spec)
    dim = spec.embedding_dim or default_embedding_dim(rows)
    text = (f"hashing into {rows:,} buckets" if getattr(spec, "num_buckets", 0) else
            f"vocabulary of {len(spec.vocabulary):,} + {spec.num_oov_buckets} OOV")
    text += f", {dim} wide"
    if getattr(spec, "shared_embedding", None):
        text += f", table {spec.shared_embedding}"
    return text


def id_rows(spec, x):
    """(row ids, table rows) of raw string ids `x`, through a new layer named after `spec`:
    `<name>_hash` or `<name>_lookup`."""
    buckets = getattr(spec, "num_buckets", 0)
    if buckets:
        return keras.layers.Hashing(buckets, name=f"{spec.name}_hash")(x), buckets
    lookup = keras.layers.StringLookup(vocabulary=list(spec.vocabulary),
                                       num_oov_indices=spec.num_oov_buckets,
                                       name=f"{spec.name}_lookup")
    return lookup(x), table_rows(spec)


def check_ids(spec, hashed):
    """Raises ValueError naming the field when an id input cannot make its rows: a hashed
    one without buckets, a looked-up one without OOV buckets, a width below 1."""
    if hashed and not (isinstance(spec.num_buckets, int) and spec.num_buckets >= 1):
        raise ValueError(f"Input {spec.name!r}: num_buckets must be an integer >= 1 to hash "
                         f"ids; got {spec.num_buckets!r}")
    if not hashed and spec.num_oov_buckets < 1:
        raise ValueError(f"Input {spec.name!r}: num_oov_buckets must be >= 1; got "
                         f"{spec.num_oov_buckets}")
    if spec.embedding_dim is not None and spec.embedding_dim < 1:
        raise ValueError(f"Input {spec.name!r}: embedding_dim must be >= 1; got "
                         f"{spec.embedding_dim}")


def embed_ids(spec, x, tables=None):
    """One id per example (strings, imputed already) -> its row of the input's embedding
    table, flattened: whitespace stripped where the input asks, looked up or hashed
    (`id_rows`)."""
    from inputs.layers import StripWhitespace
    if spec.strip_whitespace:
        x = StripWhitespace(name=f"{spec.name}_strip")(x)
    rows, size = id_rows(spec, x)
    dim = int(spec.embedding_dim or default_embedding_dim(size))
    x = spec.embedding_table(tables, size, dim)(rows)
    return keras.layers.Flatten(name=f"{spec.name}_flat")(x)
