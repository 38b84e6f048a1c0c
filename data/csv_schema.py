"""The schema of a user's CSV/TSV files: typed columns, tasks, training statistics, a report.

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
- a feature is `numeric` when every non-missing training cell is a number, else
  `categorical` (override with `feature_types`). An integer column with few distinct
  values is reported as "looks categorical";
- numeric features: mean/variance of the training cells, missing -> NaN, imputed by
  the model with the mean; categorical: the training values seen at least
  `min_frequency` times, by frequency (others share one out-of-vocabulary bucket),
  missing -> "", imputed with the most frequent value;
- labels: a missing cell is a missing label, never a negative; classes come from the
  cells of every file (unless given); each kind reads its cells (`tasks/`).

Run `python -m data.csv_schema FILE ... [--labels YAML] [--set key=value]` (or
`--config configs/x.yaml` for a config's `data.options`) to print the report without
building anything.

Example:
>>> from data.csv_options import make_options
>>> from data.csv_schema import analyze
>>> schema = analyze(make_options(train="examples/customers.csv",
...                               labels={"churned": "binary", "spend": "regression"}))
>>> [t.name for t in schema.tasks], round(schema.tasks[1].target_mean, 1)
(['churned', 'spend'], 22.8)
>>> print(schema.format().splitlines()[0])  # doctest: +NORMALIZE_WHITESPACE
column  role  type  distinct  missing  note
"""

import argparse
import dataclasses
import json
import os
import sys
import time
from typing import Dict, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from data.csv_cells import SPLIT_CODES, Cells
from data.csv_options import SPLITS, CsvError, identifier, make_options
from data.csv_reader import CsvFile
from inputs import InputSpec, inputs_from_config, inputs_to_config
from tasks import TASK_KINDS, Task, tasks_from_config, tasks_to_config

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


@dataclasses.dataclass
class CsvSchema:
    """The analysed CSV files (JSON round trip: `to_config`/`from_config`).

    Args:
        tasks: tuple of `Task`. One per label, in the order of `labels`.
        inputs: tuple of `InputSpec`. One per feature column.
        columns: dict. Input or task name -> its source column.
        rows: dict. Split -> number of rows.
        label_counts: dict. Task -> split -> {"labelled": n, "missing": n}.
        sources: dict. Split -> where its rows come from.
        report: list of dict. One row per column: column, name, role, type, distinct,
            missing, rows, note.
        seconds: float. How long the analysis took.
    """

    tasks: Tuple[Task, ...]
    inputs: Tuple[InputSpec, ...]
    columns: Dict[str, str]
    rows: Dict[str, int]
    label_counts: Dict[str, dict]
    sources: Dict[str, str]
    report: list
    seconds: float = 0.0

    def to_config(self):
        return {"tasks": tasks_to_config(self.tasks), "inputs": inputs_to_config(self.inputs),
                "columns": dict(self.columns), "rows": dict(self.rows),
                "label_counts": self.label_counts, "sources": dict(self.sources),
                "report": list(self.report), "seconds": self.seconds}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["tasks"] = tasks_from_config(config["tasks"])
        config["inputs"] = inputs_from_config(config["inputs"])
        return cls(**config)

    def format(self):
        """The report as text: one line per column, then the label counts per split."""
        header = ("column", "role", "type", "distinct", "missing", "note")
        lines = [header]
        for r in self.report:
            missing = f"{100.0 * r['missing'] / r['rows']:.1f}%" if r["rows"] else "-"
            lines.append((r["column"], r["role"], r["type"], str(r["distinct"]), missing,
                          r["note"]))
        widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
        text = ["  ".join(c.ljust(w) for c, w in zip(line[:-1], widths)) + "  " + line[-1]
                for line in lines]
        text = [t.rstrip() for t in text]
        splits = [s for s in SPLITS if self.rows.get(s)]
        text.append("rows: " + ", ".join(f"{s} {self.rows[s]:,} ({self.sources[s]})"
                                         for s in splits))
        for task in self.tasks:
            counts = self.label_counts[task.name]
            text.append(f"task {task.name} ({task.kind}"
                        + (f": {', '.join(task.classes[:8])}" + ("..." if len(task.classes) > 8
                                                                  else "") if task.classes else "")
                        + (f"; target mean {task.target_mean:.4g}, std {task.target_std:.4g}"
                           if task.target_mean is not None else "") + "): "
                        + ", ".join(f"{s} {counts[s]['labelled']:,} labelled / "
                                    f"{counts[s]['missing']:,} missing" for s in splits))
        return "\n".join(text)


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
    if options.features is not None:
        features = list(options.features)
        for column in features:
            if column not in header:
                raise CsvError(f"{first}: feature column {column!r} (data.options.features) "
                               f"not found; columns: {', '.join(header)}")
            if column in sources:
                raise CsvError(f"data.options.features: {column!r} is the source of a label "
                               "(data.options.labels); a label's column is never a feature")
            if column in options.exclude:
                raise CsvError(f"data.options.features: {column!r} is also in "
                               "data.options.exclude")
    else:
        features = [c for c in header if c not in sources and c not in options.exclude]
    for column in options.feature_types:
        if column not in features:
            raise CsvError(f"data.options.feature_types: {column!r} is not a feature column; "
                           f"features: {', '.join(features)}")
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
    """`file, line, column` of the first cell of `column` normalised to `value` (slow)."""
    for f in files:
        for line, cell in f.cells(column):
            normalised, missing = cells.python_text(cell)
            if not missing and normalised == value:
                return f"{f.path}, line {line}, column {column!r}"
    return f"{files[0].path}, column {column!r}"


def analyze(options) -> CsvSchema:
    """Reads the files of `options` (a `CsvOptions`) once and returns their `CsvSchema`."""
    start = time.perf_counter()
    cells = Cells(options)
    files = {split: [CsvFile.open(p, options) for p in options.files_of(split)]
             for split in SPLITS}
    every = [f for split in SPLITS for f in files[split]]
    features, specs, excluded = _columns(options, every)
    sources = list(dict.fromkeys(spec.column for spec in specs))
    stats = {c: FeatureStats(c, options.feature_types.get(c)) for c in features}
    counters = {c: {s: ValueCounter() for s in SPLITS} for c in sources}
    missing = {c: dict.fromkeys(SPLITS, 0) for c in sources}
    rows = dict.fromkeys(SPLITS, 0)
    code_of = {code: split for split, code in SPLIT_CODES.items()}

    # One pass over every file: features on the training rows, label cells on all rows.
    for split in SPLITS:
        for f in files[split]:
            wanted = (features + sources) if split == "train" else sources
            wanted = list(dict.fromkeys(wanted))
            total = 0
            for offset, batch in f.blocks(wanted):
                n = batch.num_rows
                total += n
                codes = (cells.split_codes(f.path, offset, n) if split == "train"
                         else np.full(n, SPLIT_CODES[split], np.int8))
                for code in np.unique(codes):
                    rows[code_of[int(code)]] += int((codes == code).sum())
                for column in sources:
                    values, absent = cells.text(batch.column(column))
                    for code in np.unique(codes):
                        keep = (codes == code)
                        s = code_of[int(code)]
                        missing[column][s] += int((keep & absent).sum())
                        counters[column][s].update(pc.filter(values, pa.array(keep & ~absent)))
                if split == "train" and features:
                    train = np.flatnonzero(codes == 0)
                    part = batch if train.size == n else batch.take(pa.array(train))
                    for column in features:
                        stats[column].update(cells, part.column(column), f, train + offset)
            if total == 0:
                raise CsvError(f"{f.path}: no data rows" + (" below the header"
                                                            if options.has_header else ""))
    if rows["train"] == 0:
        raise CsvError(f"{', '.join(options.train)}: no training rows left after holding out "
                       f"{options.split}")

    # Columns that turned out to be text after some numbers: count their text from the start.
    recount = [c for c in features if stats[c].needs_recount]
    if recount:
        for c in recount:
            stats[c].restart_counts()
        for f in files["train"]:
            for offset, batch in f.blocks(recount):
                train = np.flatnonzero(cells.split_codes(f.path, offset, batch.num_rows) == 0)
                for column in recount:
                    values, absent = cells.text(batch.column(column).take(pa.array(train)))
                    stats[column].counter.update(pc.filter(values, pa.array(~absent)))

    inputs = tuple(stats[c].spec(identifier(c), options) for c in features)
    tasks, label_counts, distinct = [], {}, {}
    for spec in specs:
        task, label_counts[spec.name], distinct[spec.name] = _label_task(
            spec, counters[spec.column], missing[spec.column], files, cells, options)
        tasks.append(task)
    columns = {i.name: c for i, c in zip(inputs, features)}
    columns.update({spec.name: spec.column for spec in specs})
    report = _report(every[0].names, stats, specs, tasks, label_counts, distinct, excluded)
    where = {split: (", ".join(os.path.basename(f.path) for f in files[split]) if files[split]
                     else f"{int(round(100 * options.split.get(split, 0.1)))}% of train")
             for split in SPLITS}
    return CsvSchema(tasks=tuple(tasks), inputs=inputs, columns=columns, rows=rows,
                     label_counts=label_counts, sources=where, report=report,
                     seconds=round(time.perf_counter() - start, 3))


def _report(header, stats, specs, tasks, label_counts, distinct, excluded):
    """One report row per column of the header (a label source once per label it feeds)."""
    report = []
    for column in header:
        if column in stats:
            report.append(stats[column].report(identifier(column)))
        for spec in (s for s in specs if s.column == column):
            task = next(t for t in tasks if t.name == spec.name)
            counts = label_counts[task.name].values()
            labelled = sum(c["labelled"] for c in counts)
            absent = sum(c["missing"] for c in counts)
            plain = spec.column == spec.key and spec.name == identifier(column)
            report.append({"column": column, "name": task.name,
                           "role": "label" if plain else f"label source ({spec.name})",
                           "type": task.kind, "distinct": distinct[spec.name],
                           "missing": absent, "rows": labelled + absent, "note": ""})
        if column in excluded:
            report.append({"column": column, "name": identifier(column), "role": "excluded",
                           "type": "-", "distinct": "-", "missing": 0, "rows": 0, "note": ""})
    return report


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


# --- the cache beside the built data -------------------------------------------------------
SCHEMA_FILE = "csv_schema.json"


def load_or_analyze(options, folder):
    """The `CsvSchema` of `options`: read from `folder/csv_schema.json` when it was written
    for the same fingerprint, else analysed and written there (atomically)."""
    fingerprint = options.fingerprint()
    path = os.path.join(folder, SCHEMA_FILE)
    try:
        with open(path) as f:
            cached = json.load(f)
        if cached.get("fingerprint") == fingerprint:
            return CsvSchema.from_config(cached["schema"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    schema = analyze(options)
    os.makedirs(folder, exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump({"fingerprint": fingerprint, "options": options.to_config(),
                   "schema": schema.to_config()}, f, indent=1)
    os.replace(tmp, path)
    return schema


# --- python -m data.csv_schema -------------------------------------------------------------
def main(argv=None):
    import yaml

    p = argparse.ArgumentParser(
        prog="python -m data.csv_schema",
        description="Print the inferred schema of CSV/TSV files (types, roles, cardinality, "
                    "missing cells, label counts per split) without building a dataset.")
    p.add_argument("files", nargs="*", help="training file(s) or globs (data.options.train; "
                                            "default: the --config's)")
    p.add_argument("--labels", default="{}",
                   help="YAML mapping, as data.options.labels: '{income: binary}'")
    p.add_argument("--config", help="take data.options from this config file (files and "
                                    "--set override them)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=YAML",
                   help="any other option, e.g. --set 'extra_na_values=[\"?\"]' "
                        "--set 'column_names=[a, b, c]'")
    args = p.parse_args(argv)
    given = {}
    if args.config:
        with open(args.config) as f:
            given = dict(((yaml.safe_load(f) or {}).get("data") or {}).get("options") or {})
    if args.files:
        given["train"] = args.files
    if "train" not in given:
        p.error("give the training file(s), or a --config naming them")
    labels = yaml.safe_load(args.labels)
    if labels:
        given["labels"] = labels
    given.setdefault("labels", {})
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            p.error(f"--set {item!r}: expected KEY=VALUE")
        given[key.strip()] = yaml.safe_load(value)
    import inspect

    valid = [k for k in inspect.signature(make_options).parameters]
    unknown = sorted(set(given) - set(valid) - {"data_dir"})
    if unknown:
        print(f"error: data.options: unknown option(s) {unknown}; valid options: "
              f"{', '.join(valid)}", file=sys.stderr)
        return 2
    given.pop("data_dir", None)
    try:
        schema = analyze(make_options(**given))
    except CsvError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(schema.format())
    print(f"analysed in {schema.seconds:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
