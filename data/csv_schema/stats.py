"""What the training cells of one feature column say: its type, moments or value counts.

`FeatureStats` reads a column block by block (memory does not grow with the file): a
column of lists (a JSON array, a Parquet list; or a CSV cell split at its
`feature_options.separator`) is a `list` of ids (its ids counted); a column of free text
(declared `text`, or whose first block's cells hold `TEXT_MIN_TOKENS` words on average) is
`text` (its tokens counted); any other column is numeric while every non-missing cell is a
number (moments merged exactly across blocks), else categorical (its values counted in
pyarrow, `ValueCounter`); a forced type (`feature_types`) is kept. It then gives the
feature's `InputSpec` (`data/csv_schema/treatments.py`: vocabulary or hashing) and its
report row.

Example:
>>> import pyarrow as pa
>>> from data.csv_schema.stats import ValueCounter
>>> counter = ValueCounter()
>>> counter.update(pa.array(["b", "a", "b"])); counter.update(pa.array(["a", "b"]))
>>> counter.result()[0], counter.result()[1].tolist()
(['b', 'a'], [3, 2])
"""

import os

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from data.csv_cells import is_list
from data.csv_options import CsvError

# Distinct numbers remembered per numeric column (for the report and the hint).
MAX_DISTINCT = 10_000
# An integer column with at most this many distinct values, each seen on average at least
# HINT_REPEATS times, "looks categorical" (codes, years), unlike e.g. ages in a small file.
CATEGORICAL_HINT = 64
HINT_REPEATS = 10
# Value-count tables are merged once they hold this many entries.
COMPACT_AT = 1 << 20
# feature_options that only id columns take: they make a numeric-looking column categorical.
ID_OPTIONS = ("treatment", "num_buckets", "max_tokens", "num_oov_buckets", "shared_embedding")
# A string column whose first block holds at least this many words per cell is text.
TEXT_MIN_TOKENS = 4


class ValueCounter:
    """Counts of distinct strings, merged from per-block `value_counts` in pyarrow."""

    def __init__(self):
        self.values, self.counts, self.size = [], [], 0
        self.limit = COMPACT_AT

    def update(self, values):
        if len(values):
            vc = pc.value_counts(values)
            self.values.append(vc.field("values"))
            self.counts.append(vc.field("counts"))
            self.size += len(vc)
            if self.size > self.limit and len(self.values) > 1:
                self._compact()
                # Twice the merged size before the next merge: each entry is merged a
                # bounded number of times, however many distinct values the column has.
                self.limit = max(COMPACT_AT, 2 * self.size)

    def _compact(self):
        if len({v.type for v in self.values}) > 1:  # integer ids and text ids: compare as text
            self.values = [pc.cast(v, pa.string()) for v in self.values]
        # Hash the values once (dictionary encoding, C++), then add the counts of each
        # distinct one with numpy: several times faster than a group-by here.
        encoded = pc.dictionary_encode(pa.concat_arrays(self.values))
        counts = np.concatenate([c.to_numpy(zero_copy_only=False) for c in self.counts])
        summed = np.bincount(encoded.indices.to_numpy(zero_copy_only=False), weights=counts,
                             minlength=len(encoded.dictionary))
        self.values = [encoded.dictionary]
        self.counts = [pa.array(summed.astype(np.int64))]
        self.size = len(encoded.dictionary)

    def exceeds(self, n):
        """Whether more than `n` distinct values were counted (merging only when the
        unmerged tables could hold more)."""
        if self.size <= n:
            return False
        if len(self.values) > 1:
            self._compact()
        return self.size > n

    def result(self):
        """(values, counts): by count (descending), then value."""
        if not self.values:
            return [], np.zeros(0, np.int64)
        self._compact()
        table = pa.table({"v": self.values[0], "c": self.counts[0]})
        order = pc.sort_indices(table, sort_keys=[("c", "descending"), ("v", "ascending")])
        table = table.take(order)
        values = table.column("v")
        if not pa.types.is_string(values.type):  # integer ids, counted as integers: as text
            values = pc.cast(values, pa.string())
        return values.to_pylist(), table.column("c").to_numpy()

    def __len__(self):
        if len(self.values) > 1:
            self._compact()
        return self.size


class FeatureStats:
    """One feature column over the training rows: type, moments or counts, missing cells."""

    def __init__(self, column, forced=None, options=None):
        self.options = options.column_options(column) if options is not None else {}
        # Id options make numbers ids (item 17 is no quantity); lists stay lists.
        self.implied = forced is None and bool(set(self.options) & set(ID_OPTIONS))
        self.column, self.forced = column, "categorical" if self.implied else forced
        self.rows = self.missing = 0
        self.form = None  # "list" or "text" once the first block says so
        self.numeric = self.forced not in ("categorical", "text", "list")
        self.n, self.mean, self.m2 = 0, 0.0, 0.0
        self.integral, self.distinct = True, set()
        self.counter = None if self.numeric else ValueCounter()
        self.needs_recount = False
        self.longest, self.items = 0, 0
        # Past this many distinct values an undeclared id column will be hashed: counting
        # stops (memory stays flat in the rows), the report says "more than".
        self.cap = None if options is None or self.options.get("treatment") == "vocabulary" \
            else options.hash_threshold
        self.capped = False
        # (file, row, value) of the first text cell, when the column also holds numbers.
        self.first_text = None

    def update(self, cells, column, file, rows):
        """`column`: the training cells of one block; `rows`: their indices in `file`."""
        self.rows += len(column)
        if self.form is None and self.rows == len(column):
            self.form = self._first_kind(cells, column, file, rows)
            if self.form is not None:
                self.numeric, self.counter = False, ValueCounter()
        if self.form == "list":
            return self._update_list(cells, column, file, rows)
        if self.form == "text":
            return self._update_text(cells, column)
        if self.numeric:
            x, bad, missing = cells.numbers(column)
            if bad.size:
                row = int(rows[bad[0]])
                if self.forced == "numeric":
                    raise CsvError(f"{file.where(row, self.column)}: numeric feature "
                                   f"{column[int(bad[0])].as_py()!r} is not a number")
                if self.n or len(column) - int(missing.sum()) > bad.size:
                    self.first_text = (file.path, row, column[int(bad[0])].as_py())
                self.numeric, self.counter = False, ValueCounter()
                self.needs_recount = self.n > 0  # earlier blocks were not counted as text
            else:
                self.missing += int(missing.sum())
                self._add_numbers(x[~missing])
                return
        values, missing = self._text(cells, column, file, rows)
        self.missing += int(missing.sum())
        self._count(pc.filter(values, pa.array(~missing)))

    def _count(self, values):
        """Counts id values, until more than the cap are distinct (see `cap`)."""
        if self.capped:
            return
        self.counter.update(values)
        if self.cap is not None and self.counter.exceeds(self.cap):
            self.capped = True

    def _text(self, cells, column, file, rows):
        if pa.types.is_integer(column.type):  # ids as written: counted as integers (fast),
            return column, column.is_null().to_numpy(zero_copy_only=False)  # named as text
        try:
            return cells.text(column)
        except ValueError:  # a list where a single value is expected
            raise CsvError(f"{file.where(int(rows[0]), self.column)}: holds lists; declare it "
                           f"feature_types: {{{self.column}: list}} or leave it undeclared"
                           ) from None

    def _first_kind(self, cells, column, file, rows):
        """`list`, `text` or None (numeric or categorical) from the first block."""
        if is_list(column) or self.forced == "list":
            if self.forced not in (None, "list") and not self.implied:
                raise CsvError(f"{file.where(int(rows[0]), self.column)}: holds lists, but "
                               f"data.options.feature_types.{self.column} is {self.forced}; "
                               "valid: list")
            return "list"
        if self.forced == "text":
            return "text"
        if self.forced is None and (pa.types.is_string(column.type) or
                                    pa.types.is_large_string(column.type)):
            values, missing = cells.text(column)
            present = pc.filter(values, pa.array(~missing))
            if len(present):
                words = pc.list_value_length(pc.ascii_split_whitespace(present))
                if pc.mean(words).as_py() >= TEXT_MIN_TOKENS:
                    return "text"
        return None

    def list_column(self, cells, column, where):
        """A block's lists of ids (`Cells.id_lists`): the cells' lists, or their text split
        at the column's separator."""
        separator = self.options.get("separator")
        if separator and not is_list(column):
            values, missing = cells.text(column)
            values = pc.if_else(pa.array(missing), "", values)
            column = pc.split_pattern(values, separator)
        return cells.id_lists(column, where)

    def _update_list(self, cells, column, file, rows):
        if is_list(column) and pa.types.is_integer(column.type.value_type):
            # Integer ids: counted as integers (several times faster than their text).
            lengths = pc.list_value_length(column).fill_null(0).to_numpy(zero_copy_only=False)
            ids = pc.drop_null(pc.list_flatten(column))
            return self._count_list(lengths, ids)
        try:
            lists = self.list_column(cells, column,
                                     lambda i: file.where(int(rows[i]), self.column))
        except ValueError as e:  # a list column holding non-lists
            raise CsvError(str(e)) from None
        self._count_list(pc.list_value_length(lists).to_numpy(zero_copy_only=False),
                         pc.list_flatten(lists))

    def _count_list(self, lengths, ids):
        self.missing += int((lengths == 0).sum())
        self.longest = max(self.longest, int(lengths.max(initial=0)))
        self.items += int(lengths.sum())
        self._count(ids)

    def _update_text(self, cells, column):
        values, missing = cells.text(column)
        self.missing += int(missing.sum())
        values = pc.filter(values, pa.array(~missing))
        if self.options.get("lowercase"):
            values = pc.utf8_lower(values)
        self.counter.update(pc.list_flatten(pc.ascii_split_whitespace(values)))

    def _add_numbers(self, x):
        if not x.size:
            return
        # Chan et al.'s pairwise update: exact for any number of blocks.
        n, mean, m2 = x.size, float(x.mean()), float(((x - x.mean()) ** 2).sum())
        total = self.n + n
        delta = mean - self.mean
        self.mean += delta * n / total
        self.m2 += m2 + delta * delta * self.n * n / total
        self.n = total
        self.integral = self.integral and bool(np.all(x == np.floor(x)))
        if self.distinct is not None:
            self.distinct.update(np.unique(x).tolist())
            if len(self.distinct) > MAX_DISTINCT:
                self.distinct = None

    def restart_counts(self):
        self.counter = ValueCounter()

    @property
    def type_name(self):
        return self.form or ("numeric" if self.numeric else "categorical")

    def report(self, name, spec=None, note=""):
        if self.numeric:
            distinct = len(self.distinct) if self.distinct is not None else f">{MAX_DISTINCT}"
        else:
            distinct = f">{self.cap}" if self.capped else len(self.counter)
        notes = [note] if note else []
        if (self.numeric and self.forced is None and self.integral and self.distinct is not None
                and 1 < len(self.distinct) <= CATEGORICAL_HINT
                and self.n >= HINT_REPEATS * len(self.distinct)):
            notes.append(f"looks categorical ({len(self.distinct)} integer values): set "
                         f"feature_types: {{{self.column}: categorical}}")
        elif self.first_text is not None:
            path, row, value = self.first_text
            notes.append(f"numbers mixed with text such as {value!r} (data row {row + 1} of "
                         f"{os.path.basename(path)}): a missing-value marker? see "
                         "extra_na_values")
        if self.form == "list":
            notes.append(f"up to {self.longest} ids, {self.items / max(self.rows, 1):.1f} a "
                         "row on average")
        if self.form == "text" and self.forced is None:
            notes.append(f"detected as text (>= {TEXT_MIN_TOKENS} words a cell): set "
                         f"feature_types: {{{self.column}: categorical}} to keep it a category")
        if self.forced and not self.implied:
            notes.append("type from feature_types")
        return {"column": self.column, "name": name, "role": "feature", "type": self.type_name,
                "distinct": distinct, "missing": self.missing, "rows": self.rows,
                "treatment": spec.describe() if spec is not None else "",
                "note": "; ".join(notes)}
