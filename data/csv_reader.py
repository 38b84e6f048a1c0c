"""Reading CSV/TSV files as blocks of string columns with pyarrow, and naming bad lines.

pyarrow's CSV reader (pinned in requirements.txt; TFDS depends on it already) parses
in C++ on every core and streams: `CsvFile.blocks()` yields record batches of a few
MB, so memory does not grow with the file. Every cell is read as a string and typed
by the analysis (`data.csv_schema`): pyarrow's own inference looks at the first block
only.

Compressed files are read by extension (`.gz`, `.bz2`, `.xz`, `.zst`, `.lz4`), or by
their first bytes when the name does not say. A path may be on any file system
TensorFlow has (`gs://...`: `data.file_system`); a local one is read by pyarrow itself. Errors name the file and the line in
the decompressed text, counted per file: pyarrow reports neither for a bad row, so
on an error (and only then) the file is scanned again with Python's `csv` module,
which counts physical lines (quoted newlines included) and skips blank lines as
pyarrow does.

Example:
>>> from data.csv_reader import CsvFile
>>> f = CsvFile.open("examples/customers.csv")
>>> f.names[:3], f.delimiter
(['age', 'city', 'device'], ',')
>>> offset, batch = next(f.blocks(["city"]))
>>> offset, batch.column("city")[0].as_py()
(0, 'paris')
"""

import csv
import io
import lzma
import os

import pyarrow as pa
import pyarrow.csv as pa_csv

from data import file_system
from data.csv_options import CsvError

COMPRESSION_SUFFIXES = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bz2", ".xz": "xz",
                        ".zst": "zstd", ".zstd": "zstd", ".lz4": "lz4"}
MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"),
         (b"\x28\xb5\x2f\xfd", "zstd"), (b"\x04\x22\x4d\x18", "lz4"))
# Big enough that per-block overheads vanish, small enough to bound memory.
BLOCK_SIZE = 8 << 20


def compression(path):
    """The codec of `path` (by extension, else by its first bytes), or None."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix in COMPRESSION_SUFFIXES:
        return COMPRESSION_SUFFIXES[suffix]
    with file_system.open_raw(path) as f:
        head = f.read(8)
    return next((codec for magic, codec in MAGIC if head.startswith(magic)), None)


def open_binary(path):
    """The file's decompressed bytes as a pyarrow input stream."""
    codec = compression(path)
    # A local file stays on pyarrow's own reads; a remote one is a Python file object.
    source = file_system.open_raw(path) if file_system.is_remote(path) else path
    if codec == "xz":  # not among pyarrow's codecs; Python's lzma streams it
        return pa.PythonFile(lzma.open(source, "rb"), mode="r")
    if file_system.is_remote(path):
        source = pa.PythonFile(source, mode="r")
    return pa.input_stream(source, compression=codec)


def default_delimiter(path):
    """Tab for .tsv/.tab files (also when compressed: `x.tsv.gz`), else comma."""
    stem, suffix = os.path.splitext(path.lower())
    if suffix in COMPRESSION_SUFFIXES:
        suffix = os.path.splitext(stem)[1]
    return "\t" if suffix in (".tsv", ".tab") else ","


def _text(path):
    return io.TextIOWrapper(open_binary(path), encoding="utf-8-sig", newline="")


class CsvFile:
    """One CSV file: its path, delimiter, column names and where its data rows start.

    Use `CsvFile.open(path, options)`; `options` is a `CsvOptions` (or None: a header
    row, comma or tab by extension).
    """

    def __init__(self, path, delimiter, names, skip_rows):
        self.path, self.delimiter, self.names, self.skip_rows = path, delimiter, names, skip_rows

    @classmethod
    def open(cls, path, options=None):
        if not file_system.exists(path):
            raise CsvError(f"{path}: file not found")
        tsv = getattr(options, "format", None) == "tsv"
        delimiter = (options.delimiter if options else None) or ("\t" if tsv else
                                                                default_delimiter(path))
        has_header = options.has_header if options else True
        given = list(options.column_names) if options and options.column_names else None
        first, line = None, 0
        try:
            with _text(path) as text:
                reader = csv.reader(text, delimiter=delimiter)
                for cells in reader:
                    if cells:
                        first, line = cells, reader.line_num
                        break
        except (UnicodeDecodeError, OSError, csv.Error) as e:
            raise CsvError(f"{path}, line {line + 1}: cannot read the file as UTF-8 CSV text "
                           f"({e}); a compressed file needs a .gz, .bz2, .xz or .zst name") from None
        if first is None:
            raise CsvError(f"{path}: empty CSV (no header row)" if has_header else
                           f"{path}: empty CSV (no data rows)")
        if not has_header:
            if len(first) != len(given):
                raise CsvError(f"{path}, line {line}: {len(first)} cells, but "
                               f"data.options.column_names names {len(given)} columns")
            return cls(path, delimiter, given, 0)
        header = [c.strip() for c in first]
        dupes = sorted({c for c in header if header.count(c) > 1})
        if dupes and not given:
            raise CsvError(f"{path}: duplicate column name(s) {dupes[:10]} in the header (line "
                           f"{line}); if the file has no header row, give "
                           "data.options.column_names")
        if given and len(given) != len(header):
            raise CsvError(f"{path}, line {line}: the header has {len(header)} columns, but "
                           f"data.options.column_names names {len(given)}")
        return cls(path, delimiter, given or header, line)

    def blocks(self, columns=None, block_size=None):
        """Yields (index of the block's first data row in this file, `pyarrow.RecordBatch`
        of the string `columns`, default all); raises `CsvError` naming the bad line."""
        columns = list(self.names if columns is None else columns)
        read = pa_csv.ReadOptions(column_names=self.names, skip_rows=self.skip_rows,
                                  block_size=block_size or BLOCK_SIZE, use_threads=True)
        parse = pa_csv.ParseOptions(delimiter=self.delimiter, newlines_in_values=True,
                                    ignore_empty_lines=True)
        convert = pa_csv.ConvertOptions(
            column_types={c: pa.string() for c in columns}, include_columns=columns,
            strings_can_be_null=False, quoted_strings_can_be_null=False, null_values=[])
        offset = 0
        try:
            reader = pa_csv.open_csv(open_binary(self.path), read_options=read,
                                     parse_options=parse, convert_options=convert)
            for batch in reader:
                yield offset, batch
                offset += batch.num_rows
        except (pa.ArrowInvalid, UnicodeDecodeError) as e:
            raise self.explain(e) from None

    def lines(self, rows):
        """{data row index: physical line number} of `rows` (a slow scan: for errors)."""
        wanted, out, index = set(int(r) for r in rows), {}, -1
        with _text(self.path) as text:
            reader = csv.reader(text, delimiter=self.delimiter)
            for cells in reader:
                if reader.line_num <= self.skip_rows or not cells:
                    continue
                index += 1
                if index in wanted:
                    out[index] = reader.line_num
                    if len(out) == len(wanted):
                        break
        return out

    def cells(self, column):
        """Yields (physical line, cell of `column`) of every data row (a slow scan: for errors)."""
        col = self.names.index(column)
        with _text(self.path) as text:
            reader = csv.reader(text, delimiter=self.delimiter)
            for cells in reader:
                if reader.line_num > self.skip_rows and len(cells) > col:
                    yield reader.line_num, cells[col]

    def line(self, row):
        return self.lines([row]).get(int(row), "?")

    def where(self, row, column=None):
        """`path, line N, column 'c'` of a data row (by index in this file)."""
        text = f"{self.path}, line {self.line(row)}"
        return f"{text}, column {column!r}" if column is not None else text

    def explain(self, error):
        """A `CsvError` naming the first bad line, found by scanning the file again."""
        line = 0
        try:
            with _text(self.path) as text:
                reader = csv.reader(text, delimiter=self.delimiter)
                for cells in reader:
                    line = reader.line_num
                    if line <= self.skip_rows or not cells:
                        continue
                    if len(cells) != len(self.names):
                        return CsvError(
                            f"{self.path}, line {line}: {len(cells)} cells, but the header has "
                            f"{len(self.names)} columns ({', '.join(self.names[:20])})")
        except UnicodeDecodeError as e:
            return CsvError(f"{self.path}, line {line + 1}: not UTF-8 text ({e})")
        except csv.Error as e:
            return CsvError(f"{self.path}, line {line + 1}: {e}")
        return CsvError(f"{self.path}: {error}")
