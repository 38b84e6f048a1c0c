"""The options of `data.name: conll`: which files, which column is the token, which are tasks.

`TaggedOptions` holds them checked, with every problem reported as `data.options.<key>: ...;
valid: ...`. Files are resolved as the CSV path resolves them (a path, a glob or a list;
`.gz`, `.bz2`, `.xz`, `.zst`, `.lz4` read by extension or first bytes). `format: conllu`
names the ten CoNLL-U columns (`ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC`), takes
`FORM` as the token, tab as the separator and `#` lines as comments; plain column files
(`format: conll`) name their columns with `columns`.

Example:
>>> from data.tagged.options import make_options
>>> options = make_options(train="tests/data/fixtures/conll2000/train.txt",
...                        columns=["token", "pos", "chunk"],
...                        tasks={"pos": "pos", "chunk": {"column": "chunk", "scheme": "bio"}})
>>> [(t.name, t.column, t.scheme) for t in options.task_specs]
[('pos', 'pos', None), ('chunk', 'chunk', 'iob2')]
"""

import dataclasses
import hashlib
import json
from typing import Optional, Tuple

from data import file_system
from data.csv_options import CsvError, resolve_files
from tasks.tag_schemes import scheme_name

FORMATS = ("conll", "conllu")
CONLLU_COLUMNS = ("ID", "FORM", "LEMMA", "UPOS", "XPOS", "FEATS", "HEAD", "DEPREL", "DEPS",
                  "MISC")
SEPARATORS = ("whitespace", "tab", "space")
INPUTS = ("text", "tokens")
TASK_KEYS = ("column", "scheme", "classes")
# Bumped when the analysis or the stored format changes: old caches are then ignored.
SCHEMA_VERSION = 1


class TaggedError(CsvError):
    """A problem in a tagged column file (names file and line) or in the `conll` options."""


@dataclasses.dataclass(frozen=True)
class TaskColumn:
    """One entry of `data.options.tasks`: a `token_multiclass` task and its tag column.

    Args:
        name: str. The task's name.
        column: str. The column holding its tags.
        scheme: str or None. `iob1`, `iob2`, `bioes` (span tags, checked and scored as
            spans), `none` (plain tags) or None (spans when the tags look like them).
        classes: tuple of str or None. The tag set, in order; None: the training tags.
    """

    name: str
    column: str
    scheme: Optional[str] = None
    classes: Optional[Tuple[str, ...]] = None


def parse_task(name, config, columns):
    """A `TaskColumn` from `tasks.<name>`: a column name, or {column, scheme, classes}."""
    where = f"data.options.tasks.{name}"
    if not name.isidentifier():
        raise TaggedError(f"{where}: a task name must be an identifier (snake_case)")
    if config is None or isinstance(config, str):
        config = {"column": config or name}
    if not isinstance(config, dict):
        raise TaggedError(f"{where}: expected a column name or {{column, scheme, classes}}; "
                          f"got {config!r}")
    unknown = sorted(set(config) - set(TASK_KEYS))
    if unknown:
        raise TaggedError(f"{where}: unknown key(s) {unknown}; valid: {', '.join(TASK_KEYS)}")
    column = config.get("column", name)
    if column not in columns:
        raise TaggedError(f"{where}.column: unknown tag column {column!r}; valid: "
                          f"{', '.join(columns)}")
    scheme = config.get("scheme")
    if scheme is not None and scheme != "none":
        try:
            scheme = scheme_name(scheme, f"{where}.scheme")
        except ValueError as e:
            raise TaggedError(f"{e}, none") from None
    classes = config.get("classes")
    if classes is not None:
        if not isinstance(classes, (list, tuple)) or len(classes) < 2:
            raise TaggedError(f"{where}.classes: a list of at least 2 tags; got {classes!r}")
        classes = tuple(str(c) for c in classes)
    return TaskColumn(name, column, scheme, classes)


@dataclasses.dataclass(frozen=True)
class TaggedOptions:
    """The checked `data.options` of `data.name: conll` (see `data/tagged/builder.py`)."""

    train: Tuple[str, ...]
    columns: Tuple[str, ...]
    token: str
    task_specs: Tuple[TaskColumn, ...]
    validation: Tuple[str, ...] = ()
    test: Tuple[str, ...] = ()
    format: str = "conll"
    separator: str = "whitespace"
    encoding: str = "utf-8"
    comment_prefix: Optional[str] = None
    docstart: bool = True
    split: Tuple[Tuple[str, float], ...] = (("validation", 0.1), ("test", 0.1))
    seed: int = 0

    def files_of(self, split):
        return getattr(self, split)

    def carved_splits(self):
        return tuple(s for s in ("validation", "test") if not self.files_of(s))

    def fraction(self, split):
        return dict(self.split).get(split, 0.0)

    def to_config(self):
        config = dataclasses.asdict(self)
        return json.loads(json.dumps(config))

    def fingerprint(self):
        """A hash of the options and each file's path, size and modification time."""
        h = hashlib.sha256(json.dumps([SCHEMA_VERSION, self.to_config()], sort_keys=True).encode())
        for split in ("train", "validation", "test"):
            for path in self.files_of(split):
                size, mtime = file_system.stat(path)
                h.update(f"{split}:{path}:{size}:{mtime}".encode())
        return h.hexdigest()[:12]


def _columns(format, columns, token):
    """(column names, token column) of the format and options."""
    if format == "conllu":
        if columns is not None:
            raise TaggedError("data.options.columns: CoNLL-U files have their ten columns "
                              f"({' '.join(CONLLU_COLUMNS)}); leave columns unset")
        return CONLLU_COLUMNS, token or "FORM"
    if not columns:
        raise TaggedError("data.options.columns: required for format conll, the names of the "
                          "file's columns in order; valid: e.g. [token, pos, chunk, ner]")
    columns = tuple(str(c) for c in columns)
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise TaggedError(f"data.options.columns: duplicate name(s) {dupes}")
    token = token or columns[0]
    return columns, token


def _split(split, has_files):
    split = {"validation": 0.1, "test": 0.1} if split is None else dict(split)
    unknown = sorted(set(split) - {"validation", "test"})
    if unknown:
        raise TaggedError(f"data.options.split: unknown split(s) {unknown}; valid: validation, "
                          "test")
    carved = sum(float(v) for k, v in split.items() if not has_files[k])
    if carved >= 1.0:
        raise TaggedError(f"data.options.split: {split} leaves no training sentences; valid: "
                          "fractions adding up to less than 1")
    return tuple(sorted((k, float(v)) for k, v in split.items()))


def make_options(train, tasks, columns=None, token=None, validation=None, test=None,
                 format="conll", separator=None, encoding="utf-8", comment_prefix=None,
                 docstart=True, split=None, seed=0):
    """`TaggedOptions` from config values (globs resolved, every key checked)."""
    if format not in FORMATS:
        raise TaggedError(f"data.options.format: unknown format {format!r}; valid: "
                          f"{', '.join(FORMATS)}")
    columns, token = _columns(format, columns, token)
    if token not in columns:
        raise TaggedError(f"data.options.token: unknown column {token!r}; valid: "
                          f"{', '.join(columns)}")
    if not isinstance(tasks, dict) or not tasks:
        raise TaggedError("data.options.tasks: required, a mapping task -> tag column (or "
                          f"{{column, scheme, classes}}); valid columns: {', '.join(columns)}")
    specs = tuple(parse_task(str(name), config, columns) for name, config in tasks.items())
    for spec in specs:
        if spec.column == token:
            raise TaggedError(f"data.options.tasks.{spec.name}.column: {token!r} is the token "
                              "column (data.options.token); a task's tags are another column")
    try:
        "".encode(encoding)
    except LookupError:
        raise TaggedError(f"data.options.encoding: unknown encoding {encoding!r}; valid: a "
                          "Python codec name such as utf-8, latin-1, cp1252") from None
    files = {"validation": resolve_files(validation, "validation"),
             "test": resolve_files(test, "test")}
    return TaggedOptions(
        train=resolve_files(train, "train"), columns=columns, token=token, task_specs=specs,
        validation=files["validation"], test=files["test"], format=format,
        separator=separator or ("tab" if format == "conllu" else "whitespace"),
        encoding=encoding, docstart=bool(docstart),
        comment_prefix=comment_prefix if comment_prefix is not None else (
            "#" if format == "conllu" else None),
        split=_split(split, {k: bool(v) for k, v in files.items()}), seed=int(seed))
