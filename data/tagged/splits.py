"""Which split each sentence of a file belongs to: its own file's split, or for a train file
without separate validation/test files, a seeded draw per sentence (the CSV path's row hash,
`data.csv_cells.row_uniforms`, on the file name and the sentence's index), the same in every
process and for every pass over the file.

Example:
>>> from data.tagged.options import make_options
>>> from data.tagged.splits import sentence_splits
>>> options = make_options(train="tests/data/fixtures/conll2000/train.txt", split={"test": 0.5},
...                        columns=["token", "pos", "chunk"], tasks={"pos": "pos"})
>>> splits = sentence_splits(options, "train", options.train[0])
>>> [splits(i) for i in range(6)]
['test', 'train', 'test', 'test', 'test', 'train']
"""

import os

from data.csv_cells import row_uniforms

BLOCK = 4096


def sentence_splits(options, split, path):
    """A function: sentence index in `path` (a file of `split`) -> its split."""
    carved = options.carved_splits() if split == "train" else ()
    if not carved:
        return lambda i: split
    bounds, low = [], 0.0
    for name in carved:
        low += options.fraction(name)
        bounds.append((low, name))
    cache = {}

    def of(i):
        block = i // BLOCK
        if block not in cache:
            cache.clear()  # files are read in order: one block at a time
            cache[block] = row_uniforms(options.seed, os.path.basename(path), block * BLOCK, BLOCK)
        u = cache[block][i % BLOCK]
        return next((name for high, name in bounds if u < high), "train")
    return of
