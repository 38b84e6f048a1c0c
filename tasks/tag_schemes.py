"""Tagging schemes of span tags: IOB1, IOB2 (BIO) and BIOES; reading, converting, checking.

- `iob2` (also called BIO): every chunk starts with `B-X`, continues with `I-X`;
- `iob1` (CoNLL-2003's original files): chunks are `I-X` runs, `B-X` only starts a chunk
  that directly follows one of the same type;
- `bioes`: `B-X` begins, `I-X` continues, `E-X` ends a chunk of several tokens, `S-X` is a
  chunk of one token.

`spans(tags)` reads the chunks of any of them the way conlleval does (`tasks/spans.py`),
`to_scheme(spans, n, scheme)` writes chunks in a scheme and `convert(tags, source, target)`
does both: valid sequences round-trip exactly. `invalid_tags(tags, scheme)` lists the
positions where a sequence breaks its declared scheme (`I-X` after `O` in IOB2, `B-X`
opening a chunk after `O` in IOB1, an `E-X` without its `B-X` in BIOES, ...): a data set
reports how many it holds and is still scored as conlleval scores it.

Example:
>>> from tasks.tag_schemes import convert, invalid_tags
>>> convert(["B-PER", "I-PER", "O", "B-LOC"], "iob2", "bioes")
['B-PER', 'E-PER', 'O', 'S-LOC']
>>> convert(["I-PER", "B-PER", "O"], "iob1", "iob2")
['B-PER', 'B-PER', 'O']
>>> invalid_tags(["O", "I-PER", "I-PER"], "iob2")
[1]
"""

import re

SCHEMES = ("iob1", "iob2", "bioes")
ALIASES = {"bio": "iob2", "iob": "iob2"}
PREFIXES = {"iob1": "BI", "iob2": "BI", "bioes": "BIES"}
_TAG = re.compile(r"^([BIES])-(.+)$")


def scheme_name(name, where="scheme"):
    """A scheme's canonical name (`bio` -> `iob2`); ValueError naming `where` otherwise."""
    canonical = ALIASES.get(str(name).lower(), str(name).lower())
    if canonical not in SCHEMES:
        raise ValueError(f"{where}: unknown tagging scheme {name!r}; valid: "
                         f"{', '.join(SCHEMES + tuple(ALIASES))}")
    return canonical


def split_tag(tag):
    """(prefix, type) of a tag; ("O", None) for `O`; ValueError for anything else."""
    if tag == "O":
        return "O", None
    match = _TAG.match(tag)
    if match is None:
        raise ValueError(f"tag {tag!r} is not O, B-X, I-X, E-X or S-X")
    return match.group(1), match.group(2)


def detect_scheme(tag_set):
    """`bioes` when some tag is `E-X` or `S-X`, else `iob2` (IOB1 and IOB2 read alike)."""
    return "bioes" if any(split_tag(t)[0] in "ES" for t in tag_set if t != "O") else "iob2"


def spans(tags):
    """[(first, last, type)] chunks of one sentence's tags, as conlleval reads them."""
    out, start, kind, closed = [], None, None, False
    for i, tag in enumerate(tags):
        prefix, this = split_tag(tag)
        inside = prefix != "O"
        if start is not None and (not inside or prefix in "BS" or this != kind or closed):
            out.append((start, i - 1, kind))
            start = None
        if inside and start is None:
            start, kind = i, this
        closed = prefix in "ES"
    if start is not None:
        out.append((start, len(tags) - 1, kind))
    return out


def to_scheme(chunks, length, scheme):
    """The `length` tags of `chunks` ([(first, last, type)], in order) in `scheme`."""
    scheme = scheme_name(scheme)
    tags = ["O"] * length
    previous = None  # (last, type) of the chunk before
    for first, last, kind in chunks:
        for i in range(first, last + 1):
            tags[i] = f"I-{kind}"
        if scheme == "iob2" or (scheme == "iob1" and previous == (first - 1, kind)):
            tags[first] = f"B-{kind}"
        elif scheme == "bioes":
            if first == last:
                tags[first] = f"S-{kind}"
            else:
                tags[first], tags[last] = f"B-{kind}", f"E-{kind}"
        previous = (last, kind)
    return tags


def convert(tags, source, target):
    """`tags` read in scheme `source` (checked: a prefix it lacks is an error) and written in
    `target`."""
    source = scheme_name(source)
    for tag in tags:
        prefix, _ = split_tag(tag)
        if prefix != "O" and prefix not in PREFIXES[source]:
            raise ValueError(f"tag {tag!r} is not a {source} tag")
    return to_scheme(spans(tags), len(tags), target)


def invalid_tags(tags, scheme):
    """Positions of the tags that break `scheme` (a prefix it lacks included)."""
    scheme = scheme_name(scheme)
    parsed = [split_tag(t) for t in tags]
    bad = []
    for i, (prefix, kind) in enumerate(parsed):
        before = parsed[i - 1] if i else ("O", None)
        after = parsed[i + 1] if i + 1 < len(parsed) else ("O", None)
        same_before = before[1] == kind and before[0] != "O"
        same_after = after[1] == kind and after[0] != "O"
        if prefix == "O":
            continue
        if prefix not in PREFIXES[scheme]:
            bad.append(i)
        elif scheme == "iob2":
            if prefix == "I" and not (same_before and before[0] in "BI"):
                bad.append(i)
        elif scheme == "iob1":
            if prefix == "B" and not same_before:
                bad.append(i)
        elif prefix in "IE" and not (same_before and before[0] in "BI"):
            bad.append(i)  # bioes: I and E continue a chunk begun by B
        elif prefix in "BI" and not (same_after and after[0] in "IE"):
            bad.append(i)  # bioes: B and I are followed by the chunk's I or E
    return bad
