"""The options of `data.name: csv`: what a config may say about a user's CSV/TSV files.

`CsvOptions` holds them, already checked: files resolved from globs or lists,
label declarations parsed into `LabelSpec`s (a label may be derived from another
column: `{kind: binary, column: marital_stat, positive: [Never married]}`), and
every problem reported with the config key and its valid values.
`fingerprint()` names a dataset version: it hashes the options and each file's
path, size and modification time (not its bytes, so a file of many GB costs
nothing to fingerprint), so editing a file builds a new dataset, never a stale one.

Example:
>>> from data.csv_options import make_options
>>> options = make_options(train="examples/customers.csv",
...                        labels={"churned": "binary", "heavy_user": {
...                            "kind": "binary", "column": "plan", "positive": ["pro"]}})
>>> [(s.name, s.column, s.kind) for s in options.label_specs()]
[('churned', 'churned', 'binary'), ('heavy_user', 'plan', 'binary')]
"""

import dataclasses
import glob
import hashlib
import json
import re
from typing import Dict, Optional, Tuple

from data import file_system
from tasks import TASK_KINDS, list_kinds
from utils.arguments import Arg, ArgumentError, Declaration, check

FEATURE_TYPES = ("numeric", "categorical", "text", "list")
TABLE_FORMATS = ("csv", "tsv", "jsonl", "parquet")
# `data.options.feature_options.<column>`: how one id, list or text column is treated.
FEATURE_OPTIONS = Declaration({name: Arg(*args, default=None, **kwargs) for name, (args, kwargs)
                               in {
    "treatment": ((str, "vocabulary (kept whole up to max_tokens) or hashing (num_buckets)"),
                  {"choices": ("vocabulary", "hashing")}),
    "num_buckets": ((int, "rows the ids are hashed into"), {"range": "[1, inf)"}),
    "max_tokens": ((int, "most frequent values a vocabulary keeps"), {"range": "[1, inf)"}),
    "min_count": ((int, "training occurrences a value needs to be kept"),
                  {"range": "[1, inf)"}),
    "num_oov_buckets": ((int, "rows shared by values outside the vocabulary"),
                        {"range": "[1, inf)"}),
    "embedding_dim": ((int, "the embedding's width"), {"range": "[1, inf)"}),
    "shared_embedding": ((str, "a table shared with the columns holding the same ids"), {}),
    "separator": ((str, "a CSV cell holding a list: what separates its ids"), {}),
    "pooling": ((str, "how a list's or a text's embeddings are pooled"),
                {"choices": ("mean", "sum")}),
    "lowercase": ((bool, "a text column's tokens lower-cased before the lookup"), {}),
}.items()})
DEFAULT_NA = ("", "NA", "N/A", "NaN", "nan", "null")
SPLITS = ("train", "validation", "test")
# Bumped when the analysis or the stored format changes: old caches are then ignored.
SCHEMA_VERSION = 2


class CsvError(ValueError):
    """A problem in a CSV file (names file, line, column) or in the `csv` options."""


def identifier(column: str) -> str:
    """A column name as a model input / task name: `Hours-per-week` -> `hours_per_week`."""
    name = re.sub(r"\W+", "_", column.strip().lower()).strip("_")
    if not name:
        name = "column"
    return f"c_{name}" if name[0].isdigit() else name


@dataclasses.dataclass(frozen=True)
class LabelSpec:
    """One entry of `data.options.labels`: a task and the column its label comes from.

    Args:
        name: str. The task's name (an identifier of the entry's key).
        key: str. The entry's key as written in the config.
        column: str. The source column (default: the key).
        kind: str. A task kind (`tasks.list_kinds()`).
        classes: tuple of str or None. Given class names; else inferred from the cells.
        kind_options: dict. The kind's own options (its `label_options`, e.g. binary's
            `positive`: the cells that make the label 1).
    """

    name: str
    key: str
    column: str
    kind: str
    classes: Optional[Tuple[str, ...]] = None
    kind_options: Dict[str, object] = dataclasses.field(default_factory=dict)


def parse_label(key, config) -> LabelSpec:
    """A `LabelSpec` from one `labels` entry: a kind, or `{kind, column, classes, ...}`."""
    where = f"data.options.labels.{key}"
    if isinstance(config, str):
        config = {"kind": config}
    if not isinstance(config, dict) or "kind" not in config:
        raise CsvError(f"{where}: expected a kind ({', '.join(list_kinds())}) or "
                       f"{{kind: ..., column: ..., classes: [...]}}; got {config!r}")
    kind = config["kind"]
    if kind not in TASK_KINDS:
        raise CsvError(f"{where}: unknown kind {kind!r}; valid kinds: {', '.join(list_kinds())}")
    kind_class = TASK_KINDS.get(kind)
    valid = ("kind", "column", "classes") + tuple(kind_class.label_options)
    unknown = sorted(set(config) - set(valid))
    if unknown:
        raise CsvError(f"{where}: unknown key(s) {unknown} for kind {kind}; valid keys: "
                       f"{', '.join(valid)}")
    classes = config.get("classes")
    if classes is not None:
        classes = tuple(str(c) for c in classes)
    column = config.get("column", key)
    if not isinstance(column, str):
        raise CsvError(f"{where}.column: expected a column name; got {column!r}")
    options = {k: config[k] for k in kind_class.label_options if k in config}
    for k, v in options.items():
        if isinstance(v, (str, int, float)):
            options[k] = (str(v),)
        elif isinstance(v, (list, tuple)):
            options[k] = tuple(str(x) for x in v)
        else:
            raise CsvError(f"{where}.{k}: expected a value or a list of values; got {v!r}")
    return LabelSpec(name=identifier(key), key=key, column=column, kind=kind, classes=classes,
                     kind_options=options)


def resolve_files(value, key):
    """A path, a glob or a list of them -> sorted absolute paths (remote ones, `gs://...`,
    as given: `data.file_system`); () for None."""
    if value is None or value == []:
        return ()
    patterns = [value] if isinstance(value, str) else list(value)
    paths = []
    for pattern in patterns:
        if not isinstance(pattern, str):
            raise CsvError(f"data.options.{key}: expected a path, a glob or a list of them; "
                           f"got {value!r}")
        problem = file_system.unavailable(pattern)
        if problem:
            raise CsvError(f"{pattern}: {problem} (data.options.{key})")
        matches = file_system.glob_files(pattern)
        if not matches:
            hint = "no file matches" if glob.has_magic(pattern) else "file not found"
            raise CsvError(f"{pattern}: {hint} (data.options.{key})")
        paths.extend(matches)
    if not paths:
        raise CsvError(f"data.options.{key}: {value!r} names no file")
    return tuple(dict.fromkeys(paths))  # keep order, drop repeats


def _strings(value, key):
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, (list, tuple)):
        raise CsvError(f"data.options.{key}: expected a list of strings; got {value!r}")
    return tuple(str(v) for v in value)


@dataclasses.dataclass(frozen=True)
class CsvOptions:
    """The `data.options` of `data.name: csv`, checked (see docs/guide/csv.md).

    Args:
        train: tuple of str. Training file(s): paths, globs or lists in the config.
        labels: dict. Label name -> kind, or -> `{kind, column, classes, <kind options>}`.
        validation: tuple of str. Validation file(s); none: a seeded slice of train.
        test: tuple of str. Test file(s); none: a seeded slice of train.
        features: tuple of str or None. Feature columns; default every column that is
            neither a label's source nor in `exclude`.
        exclude: tuple of str. Columns that are never features.
        feature_types: dict. Column -> `numeric` or `categorical`, overriding inference.
        header: bool or None. Whether each file's first row holds the column names;
            default: yes, unless `column_names` is given.
        column_names: tuple of str or None. The columns' names (headerless files; with
            `header: true` they replace the header row's).
        delimiter: str or None. Default: tab for .tsv/.tab files (compressed or not), else ",".
        split: dict. Expected fractions of the train rows held out for the splits without
            a file, e.g. `{validation: 0.1, test: 0.1}`; each row is assigned by a seeded
            hash of its file and row number, so files of any size stream.
        seed: int. Seed of that split.
        na_values: tuple of str. Cells meaning "missing" (default `DEFAULT_NA`).
        extra_na_values: tuple of str. More such cells, added to `na_values` (e.g. `?`).
        strip_whitespace: bool. Strip leading/trailing whitespace from text cells (both at
            training time and inside the exported model). Numbers are always read stripped.
        min_frequency: int. Categories seen fewer times in train go to the OOV bucket.
        multilabel_separator: str. Separates label names in a multilabel cell.
        multilabel_none: str. A multilabel cell meaning "none of the labels".
        format: str or None. `csv` (`tsv`), `jsonl` or `parquet`; None: by each file's name.
        feature_options: dict. Column -> its `FEATURE_OPTIONS` (treatment, buckets, width,
            shared table, list separator, pooling...).
        hash_threshold: int. A categorical or list column with more distinct training values
            is hashed unless its feature_options say otherwise.
        hash_buckets: int. Buckets of a column hashed without its own `num_buckets`.
    """

    train: Tuple[str, ...]
    labels: Dict[str, object]
    validation: Tuple[str, ...] = ()
    test: Tuple[str, ...] = ()
    features: Optional[Tuple[str, ...]] = None
    exclude: Tuple[str, ...] = ()
    feature_types: Dict[str, str] = dataclasses.field(default_factory=dict)
    header: Optional[bool] = None
    column_names: Optional[Tuple[str, ...]] = None
    delimiter: Optional[str] = None
    split: Dict[str, float] = dataclasses.field(
        default_factory=lambda: {"validation": 0.1, "test": 0.1})
    seed: int = 0
    na_values: Tuple[str, ...] = DEFAULT_NA
    extra_na_values: Tuple[str, ...] = ()
    strip_whitespace: bool = True
    min_frequency: int = 1
    multilabel_separator: str = "|"
    multilabel_none: str = "none"
    format: Optional[str] = None
    feature_options: Dict[str, dict] = dataclasses.field(default_factory=dict)
    hash_threshold: int = 100_000
    hash_buckets: int = 100_000

    def __post_init__(self):
        if not isinstance(self.labels, dict):
            raise CsvError("data.options.labels: a mapping label -> kind "
                           f"({', '.join(list_kinds())}); got {self.labels!r}")
        if not self.train:
            raise CsvError("data.options.train: required, a path, a glob or a list of them")
        for column, kind in self.feature_types.items():
            if kind not in FEATURE_TYPES:
                raise CsvError(f"data.options.feature_types.{column}: unknown type {kind!r}; "
                               f"valid types: {', '.join(FEATURE_TYPES)}")
        unknown = sorted(set(self.split) - {"validation", "test"})
        if unknown:
            raise CsvError(f"data.options.split: unknown split(s) {unknown}; valid: validation, "
                           "test")
        total = 0.0
        for split, fraction in self.split.items():
            if not isinstance(fraction, (int, float)) or not 0.0 <= fraction < 1.0:
                raise CsvError(f"data.options.split.{split}: must be in [0, 1); got {fraction!r}")
            if not self.files_of(split):
                total += fraction
        if total >= 1.0:
            raise CsvError(f"data.options.split: {self.split} leaves no training rows")
        if self.header is False and not self.column_names:
            raise CsvError("data.options.header: false needs data.options.column_names "
                           "(the names of the file's columns, in order)")
        if self.column_names is not None:
            dupes = sorted({c for c in self.column_names if self.column_names.count(c) > 1})
            if dupes:
                raise CsvError(f"data.options.column_names: duplicate name(s) {dupes}")
        if self.min_frequency < 1:
            raise CsvError(f"data.options.min_frequency: must be >= 1; got {self.min_frequency}")
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise CsvError(f"data.options.delimiter: one character; got {self.delimiter!r}")
        if self.format is not None and self.format not in TABLE_FORMATS:
            raise CsvError(f"data.options.format: unknown format {self.format!r}; valid: "
                           f"{', '.join(TABLE_FORMATS)}")
        for key in ("hash_threshold", "hash_buckets"):
            if not isinstance(getattr(self, key), int) or getattr(self, key) < 1:
                raise CsvError(f"data.options.{key}: {getattr(self, key)!r}; valid: an integer "
                               ">= 1")
        self.check_feature_options()
        self.label_specs()  # checks every declaration now

    def check_feature_options(self):
        """Each `feature_options` entry against `FEATURE_OPTIONS`, and the pairs that
        contradict each other."""
        if not isinstance(self.feature_options, dict):
            raise CsvError("data.options.feature_options: a mapping column -> {treatment, "
                           f"num_buckets, ...}}; got {self.feature_options!r}")
        for column, given in self.feature_options.items():
            where = f"data.options.feature_options.{column}"
            try:
                given = check(FEATURE_OPTIONS, given, where)
            except ArgumentError as e:
                raise CsvError(str(e)) from None
            if given.get("treatment") == "vocabulary" and "num_buckets" in given:
                raise CsvError(f"{where}.num_buckets: buckets are for hashing, and treatment is "
                               "vocabulary; valid: one of them")
            if given.get("treatment") == "hashing" and "max_tokens" in given:
                raise CsvError(f"{where}.max_tokens: a vocabulary's size, and treatment is "
                               "hashing; valid: num_buckets")

    def column_options(self, column):
        """The `feature_options` of one column ({} when none)."""
        return dict(self.feature_options.get(column) or {})

    # --- derived views -------------------------------------------------------------------
    @property
    def has_header(self) -> bool:
        return self.column_names is None if self.header is None else bool(self.header)

    @property
    def missing_values(self) -> Tuple[str, ...]:
        """Every cell value meaning "missing" (after stripping): "", na_values, extra_na_values."""
        return tuple(dict.fromkeys(("",) + tuple(self.na_values) + tuple(self.extra_na_values)))

    def label_specs(self) -> Tuple[LabelSpec, ...]:
        specs = tuple(parse_label(key, config) for key, config in self.labels.items())
        names = {}
        for spec in specs:
            if spec.name in names:
                raise CsvError(f"data.options.labels: {names[spec.name]!r} and {spec.key!r} both "
                               f"map to the task name {spec.name!r}; rename one")
            names[spec.name] = spec.key
        return specs

    def files_of(self, split):
        return getattr(self, split)

    def carved_splits(self):
        """The splits without files of their own, taken out of the train files."""
        return tuple(s for s in ("validation", "test") if not self.files_of(s))

    def all_files(self):
        """[(split, path)] for every file; carved splits come from the train files."""
        return [(split, path) for split in SPLITS for path in self.files_of(split)]

    def to_config(self) -> dict:
        config = dataclasses.asdict(self)
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in config.items()}

    def fingerprint(self) -> str:
        """A hash of the options and of each file's path, size and modification time."""
        h = hashlib.sha256(json.dumps([SCHEMA_VERSION, self.to_config()], sort_keys=True,
                                      default=str).encode())
        for split, path in self.all_files():
            try:
                size, mtime = file_system.stat(path)
            except FileNotFoundError:
                raise CsvError(f"{path}: file not found (data.options.{split})") from None
            h.update(f"{split}:{path}:{size}:{mtime}".encode())
        return h.hexdigest()[:12]


def make_options(train, labels, validation=None, test=None, features=None, exclude=None,
                 feature_types=None, header=None, column_names=None, delimiter=None, split=None,
                 seed=0, na_values=None, extra_na_values=None, strip_whitespace=True,
                 min_frequency=1, multilabel_separator="|", multilabel_none="none", format=None,
                 feature_options=None, hash_threshold=100_000, hash_buckets=100_000):
    """`CsvOptions` from config values (globs resolved, lists as tuples, every key checked)."""
    kwargs = dict(
        train=resolve_files(train, "train"), labels=labels,
        validation=resolve_files(validation, "validation"), test=resolve_files(test, "test"),
        features=_strings(features, "features"), exclude=_strings(exclude, "exclude") or (),
        feature_types=dict(feature_types or {}), header=header,
        column_names=_strings(column_names, "column_names"), delimiter=delimiter,
        seed=int(seed), extra_na_values=_strings(extra_na_values, "extra_na_values") or (),
        strip_whitespace=bool(strip_whitespace), min_frequency=int(min_frequency),
        multilabel_separator=multilabel_separator, multilabel_none=multilabel_none,
        format=format, feature_options=feature_options or {}, hash_threshold=hash_threshold,
        hash_buckets=hash_buckets)
    if header is not None and not isinstance(header, bool):
        raise CsvError(f"data.options.header: true or false; got {header!r}")
    if split is not None:
        if not isinstance(split, dict):
            raise CsvError(f"data.options.split: a mapping like {{validation: 0.1, test: 0.1}}; "
                           f"got {split!r}")
        kwargs["split"] = dict(split)
    if na_values is not None:
        kwargs["na_values"] = _strings(na_values, "na_values")
    return CsvOptions(**kwargs)
