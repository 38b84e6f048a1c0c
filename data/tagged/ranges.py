"""Cutting a tagged column file into byte ranges that start and end between sentences, so
that Beam workers read one each (`data.tagged.beam`).

A range starts right after a blank line: there the reader has no sentence open, so the
range's lines parse as they do in a pass over the whole file; a `-DOCSTART-` line or a
CoNLL-U comment after the blank line is the next range's, as it belongs to the sentence
that follows (`data.tagged.reader`). A compressed file cannot be cut (it is one range), nor
can a file in an encoding where a newline or a blank is not its ASCII byte (UTF-16, ...).

Example:
>>> from data.tagged.ranges import cuts
>>> import io
>>> text = b"a X\\nb Y\\n\\n-DOCSTART- O\\n\\nc Z\\n\\nd Z\\n"
>>> cuts(io.BytesIO(text), len(text), [1, 10, 30])  # after a blank line at or past each
[9, 23]
>>> text[:9], text[9:23], text[23:]
(b'a X\\nb Y\\n\\n', b'-DOCSTART- O\\n\\n', b'c Z\\n\\nd Z\\n')
"""

import math
import re

from data import file_system
from data.csv_reader import compression

# A blank line: its newline, whitespace only, the newline that ends it.
BLANK = re.compile(rb"\n[ \t\r\f\v]*\n")
CHUNK = 1 << 16


def splittable(path, encoding):
    """Whether `path` can be cut at byte offsets: not compressed, and in an encoding where
    newlines and blanks are their ASCII bytes (UTF-8, Latin-1, cp1252...)."""
    probe = "a\r\n \t"
    return (compression(path) is None
            and probe.encode(encoding)[-len(probe) + 1:] == probe[1:].encode("ascii"))


def ranges(path, encoding, pieces):
    """[(start, end)] cutting `path` into about `pieces` ranges (end None: the file's end);
    one range when it cannot be cut, or has no blank line where a cut is wanted."""
    if pieces <= 1 or not splittable(path, encoding):
        return [(0, None)]
    size = file_system.stat(path)[0]
    step = math.ceil(size / pieces)
    with file_system.open_raw(path) as f:
        bounds = cuts(f, size, [k * step for k in range(1, pieces)])
    return list(zip([0] + bounds, bounds + [None]))


def cuts(f, size, wanted):
    """Offsets in `f` (a binary file of `size` bytes) right after a blank line: the first
    at or past each wanted offset, each past the one before, none at the end."""
    found = []
    for position in wanted:
        if found and position <= found[-1]:
            position = found[-1] + 1
        offset = next_boundary(f, position)
        if offset is None or offset >= size:
            break
        found.append(offset)
    return found


def next_boundary(f, position):
    """The offset right after the first blank line of `f` that ends at or past `position`
    (its newline may be just before `position`), or None."""
    start = max(position - 1, 0)
    f.seek(start)
    buffer = b""
    while True:
        chunk = f.read(CHUNK)
        if not chunk:
            return None
        buffer += chunk
        match = BLANK.search(buffer)
        if match:
            return start + match.end()
        keep = buffer.rfind(b"\n")  # a blank line starts at a newline: keep the last one
        keep = len(buffer) if keep < 0 else keep
        start, buffer = start + keep, buffer[keep:]
