"""Reading tagged column files (CoNLL, CoNLL-U) sentence by sentence, naming bad lines.

One token per line, its columns separated by whitespace (or tabs: CoNLL-U, where a token may
hold a space), a blank line after each sentence. `-DOCSTART-` lines (CoNLL-2002/2003's
document breaks) and comment lines (`#` in CoNLL-U) are skipped, as are CoNLL-U's multiword
token ranges (`1-2`) and empty nodes (`8.1`), which carry no tags. The file is streamed
(decompressed by extension or first bytes, as the CSV path does) and decoded with the
declared encoding; a byte the encoding cannot read, or a line with the wrong number of
columns, fails naming the file and the line.

A `Part` of a file is read alone (a Beam work item's share, `data.tagged.ranges`): its bytes,
which start after a blank line, parsed by the same code, its lines numbered as lines of the
whole file (`Part.line`: the lines before it).

Example:
>>> from data.tagged.options import make_options
>>> from data.tagged.reader import TaggedFile
>>> options = make_options(train="tests/data/fixtures/conll2000/train.txt",
...                        columns=["token", "pos", "chunk"], tasks={"chunk": "chunk"})
>>> first = next(TaggedFile(options.train[0], options).sentences())
>>> first.tokens[:3], first.tags["chunk"][:3], first.lines[0]
(('The', 'company', 'said'), ('B-NP', 'I-NP', 'B-VP'), 1)
"""

import collections
import io

from data import file_system
from data.csv_reader import open_binary
from data.tagged.options import TaggedError

DOCSTART = "-DOCSTART-"
Sentence = collections.namedtuple("Sentence", "tokens tags lines")
# Bytes [start, end) of a file (end None: to its end) after its first `line` lines.
Part = collections.namedtuple("Part", "start end line")
WHOLE = Part(0, None, 0)


class TaggedFile:
    """One tagged file of `options` (a `TaggedOptions`)."""

    def __init__(self, path, options):
        self.path, self.options = path, options
        self.token_index = options.columns.index(options.token)
        self.wanted = {t.column: options.columns.index(t.column) for t in options.task_specs}

    def binary(self, part=WHOLE):
        """The bytes of `part` as a binary file object (the whole file decompressed; a part
        of an uncompressed file read into memory)."""
        if part[:2] == WHOLE[:2]:
            return open_binary(self.path)
        with file_system.open_raw(self.path) as f:
            f.seek(part.start)
            return io.BytesIO(f.read() if part.end is None else f.read(part.end - part.start))

    def lines(self, part=WHOLE):
        """Yields (line number in the file, text without its newline)."""
        try:
            with io.TextIOWrapper(self.binary(part), encoding=self.options.encoding) as f:
                for number, line in enumerate(f, part.line + 1):
                    yield number, line.rstrip("\r\n")
        except UnicodeDecodeError as e:
            raise TaggedError(self.decode_error(e, part)) from None

    def decode_error(self, error, part=WHOLE):
        """The message of a decoding error, naming the first line the encoding cannot read."""
        encoding = self.options.encoding
        with io.TextIOWrapper(self.binary(part), encoding="latin-1", newline="") as f:
            for number, line in enumerate(f, part.line + 1):
                try:
                    line.encode("latin-1").decode(encoding)
                except UnicodeDecodeError as e:
                    return (f"{self.path}, line {number}: not {encoding} text ({e.reason} at "
                            f"byte {e.start} of the line); declare the file's encoding: "
                            "data.options.encoding (e.g. latin-1, cp1252)")
        return f"{self.path}: not {encoding} text ({error})"

    def fields(self, line):
        separator = self.options.separator
        if separator == "whitespace":
            return line.split()
        return line.split("\t" if separator == "tab" else " ")

    def sentences(self, part=WHOLE):
        """Yields the `Sentence`s of the file (or of a `Part` of it): tokens, {tag column:
        tags} and line numbers."""
        return self.parse(self.lines(part))

    def parse(self, lines):
        """`Sentence`s of (line number, text) pairs."""
        rows, comment = [], self.options.comment_prefix
        for number, line in lines:
            if not line.strip():
                if rows:
                    yield self._sentence(rows)
                rows = []
                continue
            if comment and line.startswith(comment):
                continue
            fields = self.fields(line)
            if self.options.docstart and fields[self.token_index if len(fields) >
                                               self.token_index else 0] == DOCSTART:
                if rows:
                    yield self._sentence(rows)
                rows = []
                continue
            if self.options.format == "conllu" and not fields[0].isdigit():
                continue  # a multiword token range (1-2) or an empty node (8.1)
            if len(fields) != len(self.options.columns):
                raise TaggedError(
                    f"{self.path}, line {number}: {len(fields)} columns, expected "
                    f"{len(self.options.columns)} ({' '.join(self.options.columns)}; "
                    f"separated by {self.options.separator}): {line.strip()[:80]!r}")
            rows.append((number, fields))
        if rows:
            yield self._sentence(rows)

    def _sentence(self, rows):
        tokens = tuple(fields[self.token_index] for _, fields in rows)
        tags = {column: tuple(fields[i] for _, fields in rows) for column, i in self.wanted.items()}
        return Sentence(tokens, tags, tuple(number for number, _ in rows))
