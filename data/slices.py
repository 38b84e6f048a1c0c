"""Slices of a dataset's own training split, as the TFDS split strings that read them.

A mixture's source names a slice of its dataset's training split: `train` (all of it),
`train[:500]`, `train[500:]`, `train[:10%]`, `train[-100:]`. Several datasets define their
training split as a slice of TFDS's raw `train` and take validation or test from the rest
(conll2000: train `train[:8042]`, validation `train[8042:]`; smallnorb `train[:90%]`), so
the source's slice must be read inside the dataset's training split, never handed to TFDS
as is (that would read the raw split, validation and test examples included). `compose`
turns (the dataset's training split, the source's slice, the raw splits' lengths) into the
one TFDS split string that reads exactly those examples, in file order.

Percent bounds round as TFDS rounds them (to the closest example) on the length of the
dataset's training split; a bound beyond it is an error, as it is in TFDS.

Example:
>>> from data.slices import compose
>>> compose("train[:8042]", "train[500:]", {"train": 8936, "test": 2012})
'train[500:8042]'
>>> compose("train[:90%]", "train[:10%]", {"train": 1000})   # 10% of the 900
'train[:90]'
>>> compose("train", "train[500:]", {"train": 8936})         # a plain split: unchanged
'train[500:]'
"""

import re
import types

ADDITION = re.compile(r"\s*\+\s*")
EXAMPLES = "train (all of the dataset's training split) or a slice of it: train[:500], " \
           "train[500:], train[:10%], train[-100:]"


def compose(outer, inner, lengths):
    """The TFDS split string of slice `inner` taken inside split `outer`.

    Args:
        outer: str. The dataset's training split as a TFDS split string (`train`,
            `train[:8042]`, `train[:80%]`, `train+validation`).
        inner: str. `train` or a TFDS slice of it (`train[:500]`, `train[10%:]`; pieces
            joined by `+` allowed), read relative to `outer`: `train` is all of `outer`.
        lengths: dict. {raw TFDS split: its number of examples, or its `SplitInfo`}
            (a built dataset's `info.splits` will do).

    Returns a TFDS split string. Raises ValueError saying what is valid when `inner` names
    another split than train, slices by shards or does not fit `outer`'s length.

    >>> lengths = {"train": 8936}
    >>> compose("train[:8042]", "train", lengths)
    'train[:8042]'
    >>> compose("train[:8042]", "train[:500]", lengths)
    'train[:500]'
    >>> compose("train[:8042]", "train[-42:]", lengths)
    'train[8000:8042]'
    >>> compose("train[100:]", "train[10%:20%]", {"train": 1100})  # nested: 100 + [100, 200)
    'train[200:300]'
    >>> compose("train[:4]+test", "train[2:6]", {"train": 10, "test": 5})  # across pieces
    'train[2:4]+test[:2]'
    >>> compose("train[:8042]", "test", lengths)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: 'test' names split 'test'; valid: train (all of the dataset's training split) ...
    >>> compose("train[:8042]", "train[:9000]", lengths)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: 'train[:9000]' does not fit the training split's 8042 examples (...); valid: ...
    """
    infos = {name: _info(value) for name, value in lengths.items()}
    pieces = _absolute(outer, infos)
    if outer.strip() == "train":  # the raw split itself: TFDS reads `inner` as meant
        _check(inner, pieces[0][2])
        return inner
    ranges = _check(inner, sum(b - a for _, a, b in pieces))
    out = [part for start, stop in ranges for part in _select(pieces, start, stop)]
    if not out:  # an empty slice: still a split string (the caller refuses it as empty)
        out = [(pieces[0][0], pieces[0][1], pieces[0][1])]
    return "+".join(_spell(name, a, b, infos[name].num_examples) for name, a, b in out)


def _info(value):
    """A `SplitInfo` as it is, or a length as the two fields TFDS's slicing reads."""
    if hasattr(value, "num_examples"):
        return value
    return types.SimpleNamespace(num_examples=int(value), shard_lengths=[int(value)])


def _absolute(spec, infos):
    """[(raw split, start, stop)] that the TFDS split string `spec` reads."""
    import tensorflow_datasets as tfds

    out = []
    for a in tfds.core.ReadInstruction.from_spec(spec).to_absolute(infos):
        n = infos[a.splitname].num_examples
        out.append((a.splitname, a.from_ or 0, n if a.to is None else a.to))
    return out


def _check(inner, n):
    """[(start, stop)] of `inner` within a training split of `n` examples; ValueError
    saying what is valid when `inner` names another split, slices by shard or does not fit."""
    for piece in ADDITION.split(inner.strip()):
        name = piece.split("[", 1)[0].strip()
        if name != "train":
            raise ValueError(f"{inner!r} names split {name!r}; valid: {EXAMPLES}")
        if "shard" in piece:
            raise ValueError(f"{inner!r} slices by shard; valid: {EXAMPLES}")
    try:
        return [(a, b) for _, a, b in _absolute(inner, {"train": _info(n)})]
    except ValueError as e:
        why = " ".join(str(e).split())
        raise ValueError(f"{inner!r} does not fit the training split's {n} examples ({why}); "
                         f"valid: {EXAMPLES}") from None


def _select(pieces, start, stop):
    """The parts of positions [start, stop) of the concatenated `pieces`, as raw ranges."""
    out, offset = [], 0
    for name, a, b in pieces:
        lo, hi = max(start, offset), min(stop, offset + b - a)
        if lo < hi:
            out.append((name, a + lo - offset, a + hi - offset))
        offset += b - a
    return out


def _spell(name, a, b, n):
    """`name[a:b]` with TFDS's open ends where the range starts at 0 or ends at `n`."""
    if a == 0 and b == n:
        return name
    return f"{name}[{a or ''}:{'' if b == n else b}]"
