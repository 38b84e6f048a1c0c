"""How CSV cells become values: one set of rules for the analysis and for generation.

All of it is vectorised on pyarrow arrays (one call per column and block, no Python
loop over rows). CSV cells are strings; JSON Lines and Parquet columns come typed (numbers,
booleans, strings, lists, nulls): numbers are read as they are, other scalars as their text,
a null is a missing cell, and a list column's ids are read as text (`id_lists`):

- text: leading/trailing ASCII whitespace is stripped when `strip_whitespace` is on
  (`pyarrow.compute.ascii_trim_whitespace`: space, \\t, \\n, \\v, \\f, \\r, the characters
  `tf.strings.strip` strips in the exported model); a cell is missing when, stripped,
  it is "" or one of the `na_values`/`extra_na_values` (the model's `Impute` layer,
  `inputs/layers.py`, tests the same);
- numbers: stripped cells parsed as float64 (`1`, `-2.5`, `1e3`; `inf`/`nan` are not
  numbers); missing -> NaN;
- labels: each distinct cell of a block goes once through its task kind's
  `labels_from_text`, the block then gathers the answers (`encode_labels`);
- the seeded split: a row's split (train, or a held-out one without a file of its
  own) comes from a hash of the seed, the file's name and the row's index in it, so any
  block of any file is assigned on its own, in the same way by every process.

Example:
>>> import pyarrow as pa
>>> from data.csv_cells import Cells
>>> from data.csv_options import make_options
>>> cells = Cells(make_options(train="examples/customers.csv", labels={"plan": "multiclass"},
...                            extra_na_values=["?"]))
>>> values, missing = cells.text(pa.array([" Self-employed ", "?", ""]))
>>> values.to_pylist(), missing.tolist()
(['Self-employed', '?', ''], [False, True, True])
>>> numbers, bad, missing = cells.numbers(pa.array([" 39", "", "x", "1e3"]))
>>> numbers.tolist(), bad.tolist()
([39.0, nan, nan, 1000.0], [2])
"""

import os
import zlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# What counts as a number (pyarrow's float parser also takes "inf" and "nan").
NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
SPLIT_CODES = {"train": 0, "validation": 1, "test": 2}


def is_list(column):
    """Whether a column holds lists (a JSON array, a Parquet list)."""
    return pa.types.is_list(column.type) or pa.types.is_large_list(column.type)


def as_text(column):
    """(strings, numpy mask of nulls or None): a scalar column of any type as text, nulls as
    "" (numbers as pyarrow writes them: `12`, `2.5`)."""
    if pa.types.is_null(column.type):
        return pa.array([""] * len(column), pa.string()), np.ones(len(column), bool)
    if is_list(column):
        raise ValueError("a list where a single value is expected")
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = pc.cast(column, pa.string())
    if not column.null_count:
        return column, None
    return column.fill_null(""), column.is_null().to_numpy(zero_copy_only=False)


class Cells:
    """The cell rules of one `CsvOptions`."""

    def __init__(self, options):
        self.strip = options.strip_whitespace
        self.na = pa.array(list(options.missing_values), pa.string())
        self.options = options

    def text(self, column):
        """(values, missing): the normalised strings and a numpy mask of missing cells."""
        column, null = as_text(column)
        trimmed = pc.ascii_trim_whitespace(column)
        missing = pc.is_in(trimmed, value_set=self.na).to_numpy(zero_copy_only=False)
        return (trimmed if self.strip else column), (missing if null is None else missing | null)

    def numbers(self, column):
        """(float64 numpy array with NaN where missing, indices of the cells that are not
        numbers, numpy mask of missing cells)."""
        kind = column.type
        if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
            x = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)
            missing = np.isnan(x)  # nulls (and NaN, which no number means) are missing
            return x, np.flatnonzero(~np.isfinite(x) & ~missing), missing
        column, null = as_text(column)
        trimmed = pc.ascii_trim_whitespace(column)
        missing = pc.is_in(trimmed, value_set=self.na)
        filled = pc.if_else(missing, "0", trimmed)
        try:
            x = pc.cast(filled, pa.float64()).to_numpy(zero_copy_only=False).copy()
            bad = ~np.isfinite(x)
        except pa.ArrowInvalid:  # some cell is not a number: find which
            ok = pc.match_substring_regex(filled, NUMBER).to_numpy(zero_copy_only=False)
            x = np.full(len(column), np.nan)
            x[ok] = pc.cast(pc.filter(filled, pa.array(ok)), pa.float64()).to_numpy(
                zero_copy_only=False)
            bad = ~ok | ~np.isfinite(x)
        missing = missing.to_numpy(zero_copy_only=False)
        if null is not None:
            missing = missing | null
        x[missing] = np.nan
        return x, np.flatnonzero(bad & ~missing), missing

    def id_lists(self, column, where):
        """Each row's ids as text (a `pyarrow.ListArray` of strings; empty and null ids
        dropped, a null list empty; stripped when `strip_whitespace`), all in pyarrow (a
        block of 65,536 rows may hold millions of ids); `where(i)` names row i in the error
        for a column that holds non-lists."""
        if not is_list(column):
            first = next((i for i, v in enumerate(column.is_valid().to_pylist()) if v), 0)
            raise ValueError(f"{where(first)}: a list column holds non-lists (such as "
                             f"{column[first].as_py()!r}); a CSV cell holding a list needs "
                             "data.options.feature_options.<column>.separator")
        parents = pc.list_parent_indices(column).to_numpy(zero_copy_only=False)
        values, _ = as_text(pc.list_flatten(column))
        if self.strip:
            values = pc.ascii_trim_whitespace(values)
        keep = pc.not_equal(values, "")
        values = pc.filter(values, keep)
        parents = parents[keep.to_numpy(zero_copy_only=False)]
        offsets = np.zeros(len(column) + 1, np.int32)
        np.cumsum(np.bincount(parents, minlength=len(column)), out=offsets[1:])
        return pa.ListArray.from_arrays(pa.array(offsets), pc.cast(values, pa.string()))

    def python_text(self, cell):
        """The rule of `text` for one Python string (the slow error paths use it)."""
        trimmed = cell.strip(" \t\n\v\f\r")
        missing = trimmed in set(self.options.missing_values)
        return (trimmed if self.strip else cell), missing

    def split_codes(self, path, offset, n):
        """int8 codes (`SPLIT_CODES`) of rows `offset .. offset+n-1` of a train file."""
        options = self.options
        carved = options.carved_splits()
        codes = np.zeros(n, np.int8)
        if not carved or n == 0:
            return codes
        u = row_uniforms(options.seed, os.path.basename(path), offset, n)
        low = 0.0
        for split in carved:
            high = low + float(options.split.get(split, 0.1))
            codes[(u >= low) & (u < high)] = SPLIT_CODES[split]
            low = high
        return codes


def row_uniforms(seed, file_key, offset, n):
    """Uniform [0, 1) numbers, one per row, a pure function of (seed, file, row index):
    splitmix64's finaliser on a counter, vectorised."""
    salt = np.uint64((zlib.crc32(file_key.encode()) << 20) ^ (int(seed) & 0xFFFFF))
    with np.errstate(over="ignore"):
        z = (np.arange(offset, offset + n, dtype=np.uint64) + salt * np.uint64(0x9E3779B97F4A7C15))
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def encode_labels(task, values, missing, where, **options):
    """A block's labels of `task`: each distinct present value parsed once by the kind.

    Args:
        task: `Task`.
        values: pyarrow string array. Normalised cells (`Cells.text`).
        missing: numpy bool array. Missing cells (the task's missing label).
        where: callable. Row index in the block -> "file, line, column" for errors.
        **options: the kind's options (multilabel separator, binary `positive`, ...).
    """
    n = len(values)
    present = np.flatnonzero(~missing)
    encoded = pc.dictionary_encode(pc.take(values, pa.array(present, pa.int64())))
    dictionary = encoded.dictionary.to_pylist()
    indices = encoded.indices.to_numpy(zero_copy_only=False)

    def where_value(i):
        return where(int(present[np.argmax(indices == i)]))

    table = np.asarray(task.labels_from_text(dictionary, where_value, **options))
    missing_label = np.asarray(task.missing_label())
    out = np.empty((n,) + missing_label.shape, dtype=table.dtype if table.size else
                   missing_label.dtype)
    out[...] = missing_label
    if present.size:
        out[present] = table[indices]
    return out
