"""The analysis of a user's CSV/TSV files: typed columns, tasks, training statistics.

`analyze(options)` streams every file once in blocks (`data.csv_reader`; memory does
not grow with the file) and returns a `CsvSchema`: the `Task` of every label, with
its classes and, for regression, the training mean/std of its target; the
`InputSpec` of every feature, with vocabulary or normalisation statistics from the
training rows only; row and label counts per split; and a per-column report. It is
computed once per dataset version and cached beside the built data
(`load_or_analyze`), so `train.py`, `evaluate.py` and `export.py` read it back.

Rules:
- columns: every column is a feature unless it is a label's source column, in
  `exclude`, or not in `features` when that is given;
- a feature is a `list` of ids when its cells are lists (JSON, Parquet) or declared so
  (a CSV cell split at `feature_options.<column>.separator`), `text` when declared or when
  its first block's cells hold several words each, `numeric` when every non-missing
  training cell is a number, else `categorical` (override with `feature_types`). An
  integer column with few distinct values is reported as "looks categorical";
- numeric features: mean/variance of the training cells, missing -> NaN, imputed by
  the model with the mean; categorical: the training values seen at least
  `min_frequency` times, by frequency (others share one out-of-vocabulary bucket),
  missing -> "", imputed with the most frequent value; a column of more than
  `hash_threshold` distinct values (or declared so) is hashed instead
  (`data/csv_schema/treatments.py`, which also makes lists, texts and shared tables);
- labels: a missing cell is a missing label, never a negative; classes come from the
  cells of every file (unless given); each kind reads its cells (`tasks/`).

The package's modules: `analysis.py` (this pass), `stats.py` (a feature column's type
and statistics), `schema.py` (`CsvSchema`), `report.py` (the per-column report),
`cache.py` (`load_or_analyze`), `cli.py` (`python -m data.csv_schema FILE ... [--labels
YAML] [--set key=value]`, or `--config configs/x.yaml` for a config's `data.options`,
prints the report without building anything).

Example:
>>> from data.csv_options import make_options
>>> from data.csv_schema import analyze
>>> schema = analyze(make_options(train="examples/customers.csv",
...                               labels={"churned": "binary", "spend": "regression"}))
>>> [t.name for t in schema.tasks], round(schema.tasks[1].target_mean, 1)
(['churned', 'spend'], 22.8)
>>> print(schema.format().splitlines()[0])  # doctest: +NORMALIZE_WHITESPACE
column  role  type  distinct  missing  treatment  note
"""

import os
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from data.csv_cells import SPLIT_CODES, Cells
from data.csv_options import SPLITS, CsvError, identifier
from data.table_reader import open_table
from data.csv_schema.report import report_rows
from data.csv_schema.schema import CsvSchema
from data.csv_schema.stats import FeatureStats, ValueCounter
from data.csv_schema.treatments import feature_specs
from tasks import TASK_KINDS, Task

CODE_OF = {code: split for split, code in SPLIT_CODES.items()}


def analyze(options) -> CsvSchema:
    """Reads the files of `options` (a `CsvOptions`) once and returns their `CsvSchema`."""
    start = time.perf_counter()
    cells = Cells(options)
    files = {split: [open_table(p, options) for p in options.files_of(split)]
             for split in SPLITS}
    every = [f for split in SPLITS for f in files[split]]
    features, specs, excluded = _columns(options, every)
    scan = Scan(options, cells, features, specs)
    for split in SPLITS:
        for f in files[split]:
            scan.read(split, f)
    if scan.rows["train"] == 0:
        raise CsvError(f"{', '.join(options.train)}: no training rows left after holding out "
                       f"{options.split}")
    scan.recount_text(files["train"])
    inputs, notes = feature_specs(scan.stats, features, options)
    tasks, label_counts, distinct = [], {}, {}
    for spec in specs:
        task, label_counts[spec.name], distinct[spec.name] = _label_task(
            spec, scan.counters[spec.column], scan.missing[spec.column], files, cells, options)
        tasks.append(task)
    columns = {i.name: c for i, c in zip(inputs, features)}
    columns.update({spec.name: spec.column for spec in specs})
    where = {split: (", ".join(os.path.basename(f.path) for f in files[split]) if files[split]
                     else f"{int(round(100 * options.split.get(split, 0.1)))}% of train")
             for split in SPLITS}
    return CsvSchema(tasks=tuple(tasks), inputs=inputs, columns=columns, rows=scan.rows,
                     label_counts=label_counts, sources=where,
                     report=report_rows(every[0].names, scan.stats, specs, tasks, label_counts,
                                        distinct, excluded, dict(zip(features, inputs)), notes),
                     seconds=round(time.perf_counter() - start, 3))


class Scan:
    """One pass over every file: feature statistics on the training rows, the label cells of
    every row counted per split, and the rows of each split."""

    def __init__(self, options, cells, features, specs):
        self.options, self.cells, self.features = options, cells, features
        self.sources = list(dict.fromkeys(spec.column for spec in specs))
        self.stats = {c: FeatureStats(c, options.feature_types.get(c), options) for c in features}
        self.counters = {c: {s: ValueCounter() for s in SPLITS} for c in self.sources}
        self.missing = {c: dict.fromkeys(SPLITS, 0) for c in self.sources}
        self.rows = dict.fromkeys(SPLITS, 0)

    def read(self, split, f):
        """Reads one file of `split` block by block."""
        wanted = list(dict.fromkeys((self.features + self.sources) if split == "train"
                                    else self.sources))
        total = 0
        for offset, batch in f.blocks(wanted):
            n = batch.num_rows
            total += n
            codes = (self.cells.split_codes(f.path, offset, n) if split == "train"
                     else np.full(n, SPLIT_CODES[split], np.int8))
            for code in np.unique(codes):
                self.rows[CODE_OF[int(code)]] += int((codes == code).sum())
            self._count_labels(batch, codes)
            if split == "train" and self.features:
                train = np.flatnonzero(codes == 0)
                part = batch if train.size == n else batch.take(pa.array(train))
                for column in self.features:
                    self.stats[column].update(self.cells, part.column(column), f, train + offset)
        if total == 0:
            raise CsvError(f"{f.path}: no data rows" + (" below the header"
                                                        if self.options.has_header else ""))

    def _count_labels(self, batch, codes):
        """Counts each label column's cells of one block, per split (`codes`)."""
        for column in self.sources:
            values, absent = self.cells.text(batch.column(column))
            for code in np.unique(codes):
                keep = (codes == code)
                split = CODE_OF[int(code)]
                self.missing[column][split] += int((keep & absent).sum())
                self.counters[column][split].update(pc.filter(values, pa.array(keep & ~absent)))

    def recount_text(self, train_files):
        """Columns that turned out to be text after some numbers: their text counted from
        the start (a second read of those columns only)."""
        recount = [c for c in self.features if self.stats[c].needs_recount]
        if not recount:
            return
        for c in recount:
            self.stats[c].restart_counts()
        for f in train_files:
            for offset, batch in f.blocks(recount):
                train = np.flatnonzero(self.cells.split_codes(f.path, offset, batch.num_rows) == 0)
                for column in recount:
                    values, absent = self.cells.text(batch.column(column).take(pa.array(train)))
                    self.stats[column].counter.update(pc.filter(values, pa.array(~absent)))


def _features(options, header, sources, first):
    """The feature columns: `data.options.features` checked, else every column that is
    neither a label's source nor excluded."""
    if options.features is None:
        return [c for c in header if c not in sources and c not in options.exclude]
    for column in options.features:
        if column not in header:
            raise CsvError(f"{first}: feature column {column!r} (data.options.features) "
                           f"not found; columns: {', '.join(header)}")
        if column in sources:
            raise CsvError(f"data.options.features: {column!r} is the source of a label "
                           "(data.options.labels); a label's column is never a feature")
        if column in options.exclude:
            raise CsvError(f"data.options.features: {column!r} is also in "
                           "data.options.exclude")
    return list(options.features)


def _columns(options, files):
    """(feature columns, {label spec: source column}, report rows of excluded columns)."""
    header = files[0].names
    first = files[0].path
    specs = options.label_specs()
    for spec in specs:
        if spec.column not in header:
            source = "" if spec.column == spec.key else ".column"
            raise CsvError(f"{first}: label column {spec.column!r} (data.options.labels."
                           f"{spec.key}{source}) not found; columns: {', '.join(header)}")
    sources = list(dict.fromkeys(spec.column for spec in specs))
    for column in options.exclude:
        if column not in header:
            raise CsvError(f"{first}: column {column!r} (data.options.exclude) not found; "
                           f"columns: {', '.join(header)}")
    features = _features(options, header, sources, first)
    for key in ("feature_types", "feature_options"):
        for column in getattr(options, key):
            if column not in features:
                raise CsvError(f"data.options.{key}.{column}: not a feature column; valid: "
                               f"{', '.join(features)}")
    if specs and not features:
        raise CsvError(f"{first}: no feature columns (every column is a label or excluded)")
    names = {spec.name: spec.key for spec in specs}
    for column in features:
        name = identifier(column)
        if name in names:
            raise CsvError(f"{first}: columns {names[name]!r} and {column!r} both map to the "
                           f"name {name!r}; rename one")
        names[name] = column
    for f in files[1:]:
        absent = [c for c in features + sources if c not in f.names]
        if absent:
            raise CsvError(f"{f.path}: column(s) {absent} of {first} are missing; columns: "
                           f"{', '.join(f.names)}")
    used = set(features) | set(sources)
    excluded = [c for c in header if c not in used]
    return features, specs, excluded


def _find_value(cells, files, column, value):
    """`file, line (or row), column` of the first cell of `column` normalised to `value`
    (slow)."""
    for f in files:
        for line, cell in f.cells(column):
            normalised, missing = cells.python_text(cell)
            if not missing and normalised == value:
                return f"{f.path}, {getattr(f, 'unit', 'line')} {line}, column {column!r}"
    return f"{files[0].path}, column {column!r}"


def _label_task(spec, counters, missing, files, cells, options):
    """The `Task` of one label (classes, target statistics) and its counts per split."""
    kind = TASK_KINDS.get(spec.kind)
    kind_options = dict(separator=options.multilabel_separator, none=options.multilabel_none,
                        **spec.kind_options)
    results = {s: counters[s].result() for s in SPLITS}
    every = sorted(set().union(*(set(v) for v, _ in results.values())))
    classes = spec.classes
    try:
        if classes is None:
            classes = kind.classes_from_text(every, spec.key, **kind_options)
        task = Task(spec.name, spec.kind, classes)
    except ValueError as e:
        message = str(e)
        if not message.startswith("data.options"):
            message = f"data.options.labels.{spec.key}: {message}"
        raise CsvError(message) from None
    counts = {}
    for split in SPLITS:
        values, n = results[split]
        search = files[split] or files["train"]

        def where(i, values=values, search=search):
            return _find_value(cells, search, spec.column, values[i])

        try:
            labels = task.labels_from_text(values, where, **kind_options)
        except ValueError as e:
            raise CsvError(str(e)) from None
        if split == "train":
            task = task.with_label_statistics(labels, n)
        counts[split] = {"labelled": int(n.sum()), "missing": int(missing[split])}
    return task, counts, len(every)
