"""What the training cells of one feature column say: its type, moments or value counts.

`FeatureStats` reads a column block by block (memory does not grow with the file): a
column is numeric while every non-missing cell is a number (moments merged exactly across
blocks), else categorical (its values counted in pyarrow, `ValueCounter`); a forced type
(`feature_types`) is kept. It then gives the feature's `InputSpec` and its report row.

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

from data.csv_options import CsvError
from inputs import InputSpec

# Distinct numbers remembered per numeric column (for the report and the hint).
MAX_DISTINCT = 10_000
# An integer column with at most this many distinct values, each seen on average at least
# HINT_REPEATS times, "looks categorical" (codes, years), unlike e.g. ages in a small file.
CATEGORICAL_HINT = 64
HINT_REPEATS = 10
# Value-count tables are merged once they hold this many entries.
COMPACT_AT = 1 << 20


class ValueCounter:
    """Counts of distinct strings, merged from per-block `value_counts` in pyarrow."""

    def __init__(self):
        self.values, self.counts, self.size = [], [], 0

    def update(self, values):
        if len(values):
            vc = pc.value_counts(values)
            self.values.append(vc.field("values"))
            self.counts.append(vc.field("counts"))
            self.size += len(vc)
            if self.size > COMPACT_AT and len(self.values) > 1:
                self._compact()

    def _compact(self):
        table = pa.table({"v": pa.concat_arrays(self.values), "c": pa.concat_arrays(self.counts)})
        merged = table.group_by("v").aggregate([("c", "sum")])
        self.values, self.counts = [merged.column("v").combine_chunks()], \
            [merged.column("c_sum").combine_chunks()]
        self.size = len(merged)

    def result(self):
        """(values, counts): by count (descending), then value."""
        if not self.values:
            return [], np.zeros(0, np.int64)
        self._compact()
        table = pa.table({"v": self.values[0], "c": self.counts[0]})
        order = pc.sort_indices(table, sort_keys=[("c", "descending"), ("v", "ascending")])
        table = table.take(order)
        return table.column("v").to_pylist(), table.column("c").to_numpy()

    def __len__(self):
        if len(self.values) > 1:
            self._compact()
        return self.size


class FeatureStats:
    """One feature column over the training rows: type, moments or counts, missing cells."""

    def __init__(self, column, forced=None):
        self.column, self.forced = column, forced
        self.rows = self.missing = 0
        self.numeric = forced != "categorical"
        self.n, self.mean, self.m2 = 0, 0.0, 0.0
        self.integral, self.distinct = True, set()
        self.counter = None if self.numeric else ValueCounter()
        self.needs_recount = False
        # (file, row, value) of the first text cell, when the column also holds numbers.
        self.first_text = None

    def update(self, cells, column, file, rows):
        """`column`: the training cells of one block; `rows`: their indices in `file`."""
        self.rows += len(column)
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
        values, missing = cells.text(column)
        self.missing += int(missing.sum())
        self.counter.update(pc.filter(values, pa.array(~missing)))

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

    def spec(self, name, options):
        where = f"{', '.join(options.train)}, column {self.column!r}"
        if self.numeric:
            if self.n == 0:
                raise CsvError(f"{where}: no values in the training rows (every cell is missing)")
            variance = self.m2 / self.n
            return InputSpec(name, "numeric", shape=(), dtype="float32", mean=self.mean,
                             variance=variance if variance > 0 else 1.0, fill_value=self.mean)
        values, counts = self.counter.result()
        if not values:
            raise CsvError(f"{where}: no values in the training rows (every cell is missing)")
        vocabulary = [v for v, c in zip(values, counts) if c >= options.min_frequency]
        return InputSpec(name, "categorical", shape=(), dtype="string",
                         vocabulary=tuple(vocabulary), fill_value=values[0],
                         strip_whitespace=options.strip_whitespace,
                         na_values=tuple(v for v in options.missing_values if v))

    def report(self, name):
        kind = "numeric" if self.numeric else "categorical"
        if self.numeric:
            distinct = len(self.distinct) if self.distinct is not None else f">{MAX_DISTINCT}"
        else:
            distinct = len(self.counter)
        note = ""
        if (self.numeric and self.forced is None and self.integral and self.distinct is not None
                and 1 < len(self.distinct) <= CATEGORICAL_HINT
                and self.n >= HINT_REPEATS * len(self.distinct)):
            note = (f"looks categorical ({len(self.distinct)} integer values): set "
                    f"feature_types: {{{self.column}: categorical}}")
        elif self.first_text is not None:
            path, row, value = self.first_text
            note = (f"numbers mixed with text such as {value!r} (data row {row + 1} of "
                    f"{os.path.basename(path)}): a missing-value marker? see extra_na_values")
        if self.forced:
            note = (note + "; " if note else "") + "type from feature_types"
        return {"column": self.column, "name": name, "role": "feature", "type": kind,
                "distinct": distinct, "missing": self.missing, "rows": self.rows, "note": note}
