"""Reading a user's CSV/TSV files into typed columns, task labels and training statistics.

This is the pure-Python half of the `csv` dataset (`data.csv_dataset` holds
the TFDS builder). `analyze(options)` reads the files once and returns a
`CsvTable`: the rows of each split (raw feature values, encoded labels), the
`Task` of every label column and the `InputSpec` of every feature column, with
vocabularies and normalisation statistics computed on the training rows only.

Rules:
- the first row is the header; blank lines are skipped; every other row must
  have as many cells as the header;
- a cell in `na_values` (default: empty, NA, N/A, NaN, nan, null) is missing;
- a feature column is `numeric` when every non-missing training cell is a
  number, else `categorical` (override with `feature_types`);
- numeric features: mean/variance of the training cells; missing -> NaN, which
  the model imputes with the training mean; categorical: vocabulary of the
  training values seen at least `min_frequency` times (others share one
  out-of-vocabulary bucket); missing -> "", imputed with the most frequent value;
- labels: a missing cell is a missing label (-1 / NaN), never a negative;
  `binary` takes two values (0/1, false/true, no/yes, or any two strings),
  `multiclass` any strings (classes are the sorted values of all files unless
  given), `regression` numbers, `multilabel` names joined by
  `multilabel_separator` ("|"), with `multilabel_none` ("none") for "no label".

Every error names the file, the line and the column, or the config key and its
valid values.

Example:
>>> from data.csv_schema import CsvOptions, analyze
>>> table = analyze(CsvOptions(train="examples/customers.csv",
...                            labels={"churned": "binary", "plan": "multiclass"}))
>>> [t.name for t in table.tasks]
['churned', 'plan']
"""

import csv
import dataclasses
import hashlib
import json
import os
import re
from typing import Dict, Optional, Tuple

import numpy as np

from data.inputs import InputSpec
from data.task_kinds import parse_number
from data.tasks import TASK_KINDS, Task, list_kinds

FEATURE_TYPES = ("numeric", "categorical")
DEFAULT_NA = ("", "NA", "N/A", "NaN", "nan", "null")
SPLITS = ("train", "validation", "test")


class CsvError(ValueError):
    """A problem in a CSV file (names file, line, column) or in the `csv` options."""


@dataclasses.dataclass(frozen=True)
class CsvOptions:
    """The `data.options` of `data.name: csv` (see README, Datasets).

    Args:
        train: str. Path of the training CSV/TSV.
        labels: dict. Label column -> kind (`binary`, `multiclass`, `multilabel`,
            `regression`) or -> `{kind: ..., classes: [...]}`.
        validation: str or None. Validation file; else a seeded slice of train.
        test: str or None. Test file; else a seeded slice of train.
        features: list of str or None. Feature columns; default all non-label columns.
        feature_types: dict. Column -> `numeric` or `categorical`, overriding inference.
        delimiter: str or None. Default: tab for .tsv/.tab files, else comma.
        split: dict. Fractions of train held out, e.g. `{validation: 0.1, test: 0.1}`,
            for the splits without a file.
        seed: int. Seed of that split.
        na_values: list of str. Cells that mean "missing".
        min_frequency: int. Categories seen fewer times in train go to the OOV bucket.
        multilabel_separator: str. Separates label names in a multilabel cell.
        multilabel_none: str. A multilabel cell meaning "none of the labels".
    """

    train: str
    labels: Dict[str, object]
    validation: Optional[str] = None
    test: Optional[str] = None
    features: Optional[Tuple[str, ...]] = None
    feature_types: Dict[str, str] = dataclasses.field(default_factory=dict)
    delimiter: Optional[str] = None
    split: Dict[str, float] = dataclasses.field(
        default_factory=lambda: {"validation": 0.1, "test": 0.1})
    seed: int = 0
    na_values: Tuple[str, ...] = DEFAULT_NA
    min_frequency: int = 1
    multilabel_separator: str = "|"
    multilabel_none: str = "none"

    def files(self):
        return {s: getattr(self, s) for s in SPLITS if getattr(self, s)}

    def fingerprint(self) -> str:
        """A hash of the options and of the files' bytes: a new one means rebuild."""
        h = hashlib.sha256(json.dumps(dataclasses.asdict(self), sort_keys=True,
                                      default=str).encode())
        for split, path in sorted(self.files().items()):
            if not os.path.exists(path):
                raise CsvError(f"{path}: file not found (data.options.{split})")
            with open(path, "rb") as f:
                h.update(split.encode() + hashlib.sha256(f.read()).digest())
        return h.hexdigest()[:12]


@dataclasses.dataclass
class CsvTable:
    """The analysed CSV: tasks, inputs (with statistics), and rows per split."""

    tasks: Tuple[Task, ...]
    inputs: Tuple[InputSpec, ...]
    columns: Dict[str, str]           # sanitized name -> original column name
    rows: Dict[str, list]             # split -> list of example dicts (TFDS features)
    sources: Dict[str, str]           # split -> "file" or "train (seeded split)"


def identifier(column: str) -> str:
    """A column name as a model input / task name: `Hours-per-week` -> `hours_per_week`."""
    name = re.sub(r"\W+", "_", column.strip().lower()).strip("_")
    if not name:
        name = "column"
    return f"c_{name}" if name[0].isdigit() else name


def default_delimiter(path):
    return "\t" if os.path.splitext(path)[1].lower() in (".tsv", ".tab") else ","


def read_rows(path, delimiter):
    """Header and [(line number, cells)] of one file; checks it is not empty or ragged."""
    if not os.path.exists(path):
        raise CsvError(f"{path}: file not found")  # fingerprint() usually says it first
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, delimiter=delimiter)
        header, rows = None, []
        for cells in reader:
            if not cells or all(not c.strip() for c in cells):
                continue  # blank line
            cells = [c.strip() for c in cells]
            if header is None:
                header = cells
                continue
            if len(cells) != len(header):
                raise CsvError(f"{path}, line {reader.line_num}: {len(cells)} cells, but the "
                               f"header has {len(header)} columns ({', '.join(header)})")
            rows.append((reader.line_num, cells))
    if header is None:
        raise CsvError(f"{path}: empty CSV (no header row)")
    if not rows:
        raise CsvError(f"{path}: no data rows below the header")
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        raise CsvError(f"{path}: duplicate column name(s) {dupes} in the header")
    return header, rows


def label_spec(column, config):
    """(kind, classes or None) of one entry of `labels`."""
    key = f"data.options.labels.{column}"
    if isinstance(config, str):
        kind, classes = config, None
    elif isinstance(config, dict):
        unknown = sorted(set(config) - {"kind", "classes"})
        if unknown or "kind" not in config:
            raise CsvError(f"{key}: expected a kind or {{kind: ..., classes: [...]}}; got {config}")
        kind, classes = config["kind"], config.get("classes")
    else:
        raise CsvError(f"{key}: expected a kind ({', '.join(list_kinds())}) or a dict; "
                       f"got {config!r}")
    if kind not in TASK_KINDS:
        raise CsvError(f"{key}: unknown kind {kind!r}; valid kinds: {', '.join(list_kinds())}")
    if classes is not None:
        classes = tuple(str(c) for c in classes)
    return kind, classes


def label_task(column, kind, classes, values, options):
    """The `Task` of a label column; classes inferred from `values` unless given."""
    cls = TASK_KINDS.get(kind)
    if classes is None:
        try:
            classes = cls.classes_from_text(values, column, separator=options.multilabel_separator,
                                            none=options.multilabel_none)
        except ValueError as e:
            raise CsvError(str(e)) from None
    return Task(identifier(column), kind, classes)


def split_rows(rows, options):
    """Seeded split of the train file's rows into the splits that have no file."""
    missing = [s for s in ("validation", "test") if not getattr(options, s)]
    unknown = sorted(set(options.split) - {"validation", "test"})
    if unknown:
        raise CsvError(f"data.options.split: unknown split(s) {unknown}; valid: validation, test")
    order = np.random.default_rng(options.seed).permutation(len(rows))
    parts, start = {}, 0
    for split in missing:
        fraction = float(options.split.get(split, 0.1))
        if not 0.0 <= fraction < 1.0:
            raise CsvError(f"data.options.split.{split}: must be in [0, 1); got {fraction}")
        # At least one row when asked for any, so small files still get every split.
        count = max(1, int(round(fraction * len(rows)))) if fraction > 0 else 0
        parts[split] = sorted(order[start:start + count])
        start += count
    parts["train"] = sorted(order[start:])
    if not parts["train"]:
        raise CsvError(f"{options.train}: no training rows left after holding out "
                       f"{options.split}")
    return {s: [rows[i] for i in idx] for s, idx in parts.items()}


def analyze(options: CsvOptions) -> CsvTable:
    """Reads the files of `options` and returns the typed, labelled `CsvTable`."""
    if not isinstance(options.labels, dict) or not options.labels:
        raise CsvError("data.options.labels: required, a mapping column -> kind "
                       f"({', '.join(list_kinds())}); got {options.labels!r}")
    delimiter = options.delimiter or default_delimiter(options.train)
    header, train_rows = read_rows(options.train, delimiter)
    files = {"train": (options.train, header, train_rows)}
    for split in ("validation", "test"):
        path = getattr(options, split)
        if path:
            h, r = read_rows(path, options.delimiter or default_delimiter(path))
            files[split] = (path, h, r)

    # Columns: labels, then features (default: every other column).
    for column in options.labels:
        if column not in header:
            raise CsvError(f"{options.train}: label column {column!r} (data.options.labels) not "
                           f"found; columns: {', '.join(header)}")
    features = list(options.features) if options.features else [
        c for c in header if c not in options.labels]
    for column in features:
        if column not in header:
            raise CsvError(f"{options.train}: feature column {column!r} (data.options.features) "
                           f"not found; columns: {', '.join(header)}")
        if column in options.labels:
            raise CsvError(f"data.options.features: {column!r} is also a label column")
    for column, kind in options.feature_types.items():
        if column not in features:
            raise CsvError(f"data.options.feature_types: {column!r} is not a feature column; "
                           f"features: {', '.join(features)}")
        if kind not in FEATURE_TYPES:
            raise CsvError(f"data.options.feature_types.{column}: unknown type {kind!r}; "
                           f"valid types: {', '.join(FEATURE_TYPES)}")
    if not features:
        raise CsvError(f"{options.train}: no feature columns (every column is a label)")
    names = {}
    for column in list(options.labels) + features:
        name = identifier(column)
        if name in names:
            raise CsvError(f"{options.train}: columns {names[name]!r} and {column!r} both map to "
                           f"the name {name!r}; rename one")
        names[name] = column
    for split, (path, h, _) in files.items():
        absent = [c for c in list(options.labels) + features if c not in h]
        if absent:
            raise CsvError(f"{path}: column(s) {absent} of {options.train} are missing "
                           f"({split} file); columns: {', '.join(h)}")

    # Splits: files as given, the rest carved out of train with the seed.
    parts = split_rows(train_rows, options)
    split_files = {s: (options.train, header, parts[s]) for s in parts}
    split_files.update({s: v for s, v in files.items() if s != "train"})
    na = set(options.na_values)

    # Tasks: classes from every labelled cell of every file (or as given).
    tasks = []
    for column, config in options.labels.items():
        kind, classes = label_spec(column, config)
        values = [cells[h.index(column)] for _, h, rows in files.values()
                  for _, cells in rows if cells[h.index(column)] not in na]
        try:
            tasks.append(label_task(column, kind, classes, values, options))
        except CsvError:
            raise
        except ValueError as e:
            raise CsvError(f"data.options.labels.{column}: {e}") from None

    # Inputs: types and statistics from the training rows only.
    inputs = []
    for column in features:
        col = header.index(column)
        where = f"{options.train}, column {column!r}"
        values = [(line, cells[col]) for line, cells in parts["train"] if cells[col] not in na]
        if not values:
            raise CsvError(f"{where}: no values in the training rows (every cell is missing)")
        kind = options.feature_types.get(column) or (
            "numeric" if all(parse_number(v) is not None for _, v in values) else "categorical")
        name = identifier(column)
        if kind == "numeric":
            numbers = []
            for line, v in values:
                number = parse_number(v)
                if number is None:
                    raise CsvError(f"{options.train}, line {line}, column {column!r}: numeric "
                                   f"feature {v!r} is not a number")
                numbers.append(number)
            mean, var = float(np.mean(numbers)), float(np.var(numbers))
            inputs.append(InputSpec(name, "numeric", shape=(), dtype="float32", mean=mean,
                                    variance=var if var > 0 else 1.0, fill_value=mean))
        else:
            counts = {}
            for _, v in values:
                counts[v] = counts.get(v, 0) + 1
            ranked = sorted(counts, key=lambda v: (-counts[v], v))
            vocabulary = [v for v in ranked if counts[v] >= options.min_frequency]
            inputs.append(InputSpec(name, "categorical", shape=(), dtype="string",
                                    vocabulary=tuple(vocabulary), fill_value=ranked[0]))

    # Rows: raw features (NaN / "" when missing) and encoded labels.
    specs = {i.name: i for i in inputs}
    task_of = {t.name: t for t in tasks}
    rows = {}
    for split, (path, h, split_rows_) in split_files.items():
        out = []
        for line, cells in split_rows_:
            example = {}
            for column in features:
                text, name = cells[h.index(column)], identifier(column)
                if specs[name].kind == "numeric":
                    value = np.float32("nan") if text in na else parse_number(text)
                    if value is None:
                        raise CsvError(f"{path}, line {line}, column {column!r}: numeric feature "
                                       f"{text!r} is not a number")
                    example[name] = np.float32(value)
                else:
                    example[name] = "" if text in na else text
            out.append(example)
        for column in options.labels:
            task, col = task_of[identifier(column)], h.index(column)
            texts = [None if cells[col] in na else cells[col] for _, cells in split_rows_]
            try:
                labels = task.labels_from_text(
                    texts, lambda i: f"{path}, line {split_rows_[i][0]}, column {column!r}",
                    separator=options.multilabel_separator, none=options.multilabel_none)
            except ValueError as e:
                raise CsvError(str(e)) from None
            for example, label in zip(out, labels):
                example[task.name] = label
        rows[split] = out
    sources = {s: (files[s][0] if s in files else f"{options.train} (seeded split)")
               for s in SPLITS}
    return CsvTable(tasks=tuple(tasks), inputs=tuple(inputs), columns=names, rows=rows,
                    sources=sources)
