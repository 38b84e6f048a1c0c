"""Reading table files of every format in blocks: CSV/TSV, JSON Lines and Parquet.

`open_table(path, options)` returns the file's reader by `options.format` (or the name:
`.jsonl`/`.ndjson`/`.json` -> JSON Lines, `.parquet`/`.pq` -> Parquet, anything else CSV,
compressed or not). Every reader has the same members as `data.csv_reader.CsvFile`: `path`,
`names`, `blocks(columns)` yielding (first row's index, `pyarrow.RecordBatch` of those
columns), `where(row, column)` naming a cell in an error, and `cells(column)` (a slow scan
for errors). Blocks are a few MB, so memory does not grow with the file:

- JSON Lines: the decompressed text is cut at line ends into 8 MB pieces, each parsed by
  pyarrow (C++) with its own type inference (a column of integers in one block and floats
  in the next is fine; `data.csv_cells.Cells` reads numbers, text and lists of any type);
  a column absent from a block is all missing there; a line that is not a JSON object, or a
  column holding a number on one line and text on another within a block, is named by file
  and line;
- Parquet: row groups streamed with `ParquetFile.iter_batches`, typed as written (lists are
  Parquet lists); cells are named by row (Parquet has no lines).

A path may be on any file system TensorFlow has (`gs://bucket/logs/part-*.parquet`;
`data.file_system`): errors name it as given.

Example:
>>> from data.table_reader import open_table, table_format
>>> table_format("logs/part-0001.parquet"), table_format("x.jsonl.gz"), table_format("a.tsv")
('parquet', 'jsonl', 'csv')
"""

import io
import json
import os

import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from data import file_system
from data.csv_options import CsvError
from data.csv_reader import BLOCK_SIZE, COMPRESSION_SUFFIXES, CsvFile, open_binary

FORMATS = ("csv", "jsonl", "parquet")
SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet",
            ".pq": "parquet"}
PARQUET_ROWS = 65536


def table_format(path, given=None):
    """`csv`, `jsonl` or `parquet`: `given` (`data.options.format`), else by the file name
    (a compression suffix is looked through: `x.jsonl.gz` is JSON Lines)."""
    if given:
        return "csv" if given == "tsv" else given
    stem, suffix = os.path.splitext(path.lower())
    if suffix in COMPRESSION_SUFFIXES:
        suffix = os.path.splitext(stem)[1]
    return SUFFIXES.get(suffix, "csv")


def open_table(path, options=None):
    """The reader of one table file (see the module docstring)."""
    if not file_system.exists(path):
        raise CsvError(f"{path}: file not found")
    kind = table_format(path, getattr(options, "format", None))
    if kind != "csv" and options is not None:
        for key in ("header", "column_names", "delimiter"):
            if getattr(options, key) is not None:
                raise CsvError(f"data.options.{key}: for CSV/TSV files; {path} is {kind} "
                               "(its columns are named by the file); valid: null")
    if kind == "parquet":
        return ParquetFile(path)
    if kind == "jsonl":
        return JsonlFile(path)
    return CsvFile.open(path, options)


def _filled(batch, columns):
    """`batch` with exactly `columns`, in order; absent ones all missing (nulls)."""
    n = batch.num_rows
    arrays = [batch.column(c) if c in batch.schema.names else pa.nulls(n) for c in columns]
    return pa.RecordBatch.from_arrays(arrays, names=list(columns))


class ParquetFile:
    """One Parquet file, read in batches of rows with pyarrow."""

    unit = "row"  # Parquet has no lines: cells are named by row

    def __init__(self, path):
        self.path = path
        try:  # a remote file as a Python file object: Parquet reads ranges of it
            self.file = pq.ParquetFile(file_system.open_raw(path) if
                                       file_system.is_remote(path) else path)
        except (pa.ArrowInvalid, OSError) as e:
            raise CsvError(f"{path}: not a Parquet file ({e})") from None
        self.names = list(self.file.schema_arrow.names)

    def blocks(self, columns=None, block_size=None):
        columns = list(self.names if columns is None else columns)
        offset = 0
        for batch in self.file.iter_batches(batch_size=block_size or PARQUET_ROWS,
                                            columns=columns):
            yield offset, _filled(batch, columns)
            offset += batch.num_rows

    def cells(self, column):
        """Yields (row number, cell as text) of `column` (a slow scan: for errors)."""
        row = 0
        for _, batch in self.blocks([column]):
            for value in batch.column(0).to_pylist():
                row += 1
                yield row, "" if value is None else str(value)

    def where(self, row, column=None):
        text = f"{self.path}, row {int(row) + 1}"
        return f"{text}, column {column!r}" if column is not None else text


class JsonlFile:
    """One JSON Lines file (compressed or not): an object per line."""

    unit = "line"

    def __init__(self, path):
        self.path = path
        names = {}
        for line_number, obj in self._objects(limit=1000):
            names.update(dict.fromkeys(obj))
        if not names:
            raise CsvError(f"{path}: no JSON objects (an empty file?)")
        self.names = list(names)

    def _lines(self):
        with io.TextIOWrapper(open_binary(self.path), encoding="utf-8") as text:
            yield from enumerate(text, 1)

    def _objects(self, limit=None):
        """Yields (line number, parsed object) of the non-blank lines (the slow path)."""
        count = 0
        try:
            for number, line in self._lines():
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    raise CsvError(f"{self.path}, line {number}: not JSON ({e.msg} at column "
                                   f"{e.colno})") from None
                if not isinstance(obj, dict):
                    raise CsvError(f"{self.path}, line {number}: a JSON object per line "
                                   f"expected; got {line.strip()[:60]!r}")
                yield number, obj
                count += 1
                if limit is not None and count >= limit:
                    return
        except UnicodeDecodeError as e:
            raise CsvError(f"{self.path}: not UTF-8 text ({e})") from None

    def _pieces(self, block_size):
        """The decompressed bytes cut at line ends into pieces of about `block_size`."""
        stream, rest = open_binary(self.path), b""
        while True:
            chunk = stream.read(block_size)
            if not chunk:
                break
            chunk = rest + chunk
            cut = chunk.rfind(b"\n") + 1
            if cut == 0:
                rest = chunk
                continue
            yield chunk[:cut]
            rest = chunk[cut:]
        if rest.strip():
            yield rest + b"\n"

    def blocks(self, columns=None, block_size=None):
        columns = list(self.names if columns is None else columns)
        offset = 0
        for piece in self._pieces(block_size or BLOCK_SIZE):
            if not piece.strip():
                continue
            try:
                table = pa_json.read_json(io.BytesIO(piece))
            except pa.ArrowInvalid as e:
                raise self.explain(e, offset) from None
            for batch in table.to_batches():
                yield offset, _filled(batch, columns)
                offset += batch.num_rows

    def explain(self, error, offset):
        """A `CsvError` naming the line that pyarrow could not read (found by rescanning)."""
        kinds = {}
        for number, obj in self._objects():
            for key, value in obj.items():
                kind = "a list" if isinstance(value, list) else "an object" if isinstance(
                    value, dict) else "text" if isinstance(value, str) else "a number" if (
                    isinstance(value, (int, float)) and not isinstance(value, bool)) else None
                if kind is None:
                    continue
                first = kinds.setdefault(key, (kind, number))
                if first[0] != kind:
                    return CsvError(f"{self.path}, line {number}, column {key!r}: {kind} where "
                                    f"line {first[1]} has {first[0]}")
        return CsvError(f"{self.path}: cannot read the JSON Lines near row {offset + 1} ({error})")

    def cells(self, column):
        for number, obj in self._objects():
            value = obj.get(column)
            yield number, "" if value is None else (
                json.dumps(value) if isinstance(value, (list, dict)) else str(value))

    def line(self, row):
        for index, (number, _) in enumerate(self._objects()):
            if index == int(row):
                return number
        return "?"

    def where(self, row, column=None):
        text = f"{self.path}, line {self.line(row)}"
        return f"{text}, column {column!r}" if column is not None else text
