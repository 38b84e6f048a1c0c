"""The analysis of tagged column files: sentences per split, the tag set of every task, the
training tokens, and what is wrong with the tags (one pass over every file).

`analyze(options)` reads each file once (`data.tagged.reader`) and returns a `TaggedSchema`:
- each task's tag set: the declared `classes`, else the tags of the training sentences
  (`O` first, then sorted), and its scheme (declared, or none for tags that are not spans);
- tags of validation/test (or training, against declared classes) sentences outside the tag
  set: counted per split with the first file and line; they are stored as missing labels
  (masked out of losses and metrics), never silently mapped to another tag;
- tags that break the task's declared scheme (`I-X` after `O` in IOB2, ...): counted per
  split with the first file and line; they are kept and scored as conlleval reads them;
- the training tokens and their counts (the vocabulary is made from them), and the first
  token holding whitespace (a sentence input splits on whitespace: such a corpus needs
  `input: tokens`).

Example:
>>> from data.tagged.options import make_options
>>> from data.tagged.analysis import analyze
>>> schema = analyze(make_options(train="tests/data/fixtures/conll2000/train.txt",
...     test="tests/data/fixtures/conll2000/test.txt", columns=["token", "pos", "chunk"],
...     tasks={"chunk": {"column": "chunk", "scheme": "iob2"}}, split={"validation": 0.2}))
>>> schema.rows, schema.tasks[0].classes[:3]
({'train': 6, 'validation': 4, 'test': 3}, ('O', 'B-ADVP', 'B-NP'))
"""

import collections
import time

from data.tagged.options import TaggedError
from data.tagged.reader import TaggedFile
from data.tagged.schema import TaggedSchema
from data.tagged.splits import sentence_splits
from tasks import Task
from tasks.tag_schemes import PREFIXES, SCHEMES, invalid_tags, split_tag

SPLITS = ("train", "validation", "test")


def analyze(options):
    """Reads every file of `options` (a `TaggedOptions`) once; returns their `TaggedSchema`."""
    start = time.perf_counter()
    scan = Scan(options)
    for split in SPLITS:
        for path in options.files_of(split):
            scan.read(split, path)
    if not scan.rows["train"]:
        raise TaggedError(f"{', '.join(options.train)}: no training sentences")
    tasks, checks = [], {}
    for spec in options.task_specs:
        task = task_of(spec, scan)
        tasks.append(task)
        checks[task.name] = scan.checks(spec, task)
    sources = {s: (", ".join(options.files_of(s)) if options.files_of(s) else
                   f"{int(round(100 * options.fraction(s)))}% of train") for s in SPLITS}
    return TaggedSchema(tasks=tuple(tasks), token_counts=scan.token_counts.most_common(),
                        rows=scan.rows, tokens=scan.tokens, sources=sources, checks=checks,
                        spaced=scan.spaced, seconds=round(time.perf_counter() - start, 3))


class Scan:
    """One pass: sentence and token counts per split, tag counts with first locations, and
    each scheme's invalid tags per split (for the tag columns whose tags are spans)."""

    def __init__(self, options):
        self.options = options
        self.rows, self.tokens = dict.fromkeys(SPLITS, 0), dict.fromkeys(SPLITS, 0)
        self.token_counts = collections.Counter()
        columns = [t.column for t in options.task_specs]
        self.tags = {c: {s: collections.Counter() for s in SPLITS} for c in columns}
        self.first = {c: {s: {} for s in SPLITS} for c in columns}
        self.spans = dict.fromkeys(columns, True)
        self.invalid = {c: {s: {k: [0, None] for k in SCHEMES} for s in SPLITS} for c in columns}
        self.spaced = None

    def read(self, split, path):
        splits = sentence_splits(self.options, split, path)
        for i, sentence in enumerate(TaggedFile(path, self.options).sentences()):
            target = splits(i)
            self.rows[target] += 1
            self.tokens[target] += len(sentence.tokens)
            if target == "train":
                self.token_counts.update(sentence.tokens)
            if self.spaced is None and any(len(t.split()) != 1 for t in sentence.tokens):
                where = next(n for t, n in zip(sentence.tokens, sentence.lines)
                             if len(t.split()) != 1)
                self.spaced = f"{path}, line {where}"
            for column, tags in sentence.tags.items():
                self._tags(column, target, tags, [f"{path}, line {n}" for n in sentence.lines])

    def _tags(self, column, split, tags, where):
        self.tags[column][split].update(tags)
        first = self.first[column][split]
        for tag, place in zip(tags, where):
            first.setdefault(tag, place)
        if not self.spans[column]:
            return
        try:
            for scheme, counts in self.invalid[column][split].items():
                bad = invalid_tags(tags, scheme)
                counts[0] += len(bad)
                if bad and counts[1] is None:
                    counts[1] = f"{where[bad[0]]}: {tags[bad[0]]!r}" + (
                        f" after {tags[bad[0] - 1]!r}" if bad[0] else " first")
        except ValueError:
            self.spans[column] = False  # not span tags (POS): no scheme to break

    def checks(self, spec, task):
        """{"scheme", "unseen": {split: {tag: [count, where]}}, "invalid": {split: [count,
        first]}} of one task."""
        known = set(task.classes)
        unseen = {s: {tag: [n, self.first[spec.column][s][tag]] for tag, n in
                      sorted(self.tags[spec.column][s].items()) if tag not in known}
                  for s in SPLITS}
        scheme = task.scheme if task.scheme not in (None, "none") else None
        invalid = {s: self.invalid[spec.column][s][scheme] for s in SPLITS} if scheme else {}
        return {"column": spec.column, "scheme": task.scheme, "unseen": unseen,
                "invalid": invalid}


def task_of(spec, scan):
    """The `token_multiclass` task of one `tasks` entry: its classes and scheme, checked."""
    where = f"data.options.tasks.{spec.name}"
    train = scan.tags[spec.column]["train"]
    classes = spec.classes or tuple(sorted(train, key=lambda t: (t != "O", t)))
    if len(classes) < 2:
        raise TaggedError(f"{where}: column {spec.column!r} holds {len(classes)} tag(s) in the "
                          f"training sentences ({', '.join(classes)}); a task needs at least 2")
    if spec.scheme not in (None, "none"):
        for tag in classes:
            try:
                prefix = split_tag(tag)[0]
            except ValueError:
                prefix = None
            if prefix is None or (prefix != "O" and prefix not in PREFIXES[spec.scheme]):
                place = scan.first[spec.column]["train"].get(tag, "data.options")
                raise TaggedError(f"{place}, column {spec.column!r}: tag {tag!r} is not a "
                                  f"{spec.scheme} tag ({where}.scheme); valid: O or "
                                  f"{', '.join(p + '-X' for p in PREFIXES[spec.scheme])}")
    try:
        return Task(spec.name, "token_multiclass", classes, scheme=spec.scheme)
    except ValueError as e:
        raise TaggedError(f"{where}: {e}") from None
