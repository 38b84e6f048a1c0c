"""The tagged-text dataset (`data.name: conll`: CoNLL column files, CoNLL-U) built by an
Apache Beam pipeline: locally on the DirectRunner in several processes, or on Dataflow,
Flink or Spark with Beam's pipeline options (`data.beam_shards`: the options, the pipeline,
the shards each work item writes and the driver names).

The work items are the files, an uncompressed one cut into byte ranges that start after a
blank line (`data.tagged.ranges`): at least as many ranges as the DirectRunner has workers
per file, and about `RANGE_BYTES` at most (a range ends at the first blank line past its
share); a compressed file is one item: shard big compressed corpora into many files. The
analysis (tag sets, the report) has run before, in the driver. The pipeline has two
stages:

1. each range but a file's last counts its lines, and in a training file that held-out
   sentences are drawn from (the draw is per sentence index, `data.tagged.splits`) its
   sentences, with the one-process reader;
2. each range, knowing the lines and sentences before it in its file, parses with the
   same reader (`TaggedFile.sentences(part)`: a bad line's error names the file and its
   line in the whole file) and writes its examples (`data.tagged.examples`) as its shards.

The driver names the shards in work-item order: file by file, range by range, the order
of the one-process build, whose examples these are (the tests compare them).

Example:
>>> from data.tagged.beam import place
>>> items = [(0, "train", "a.txt", 0, 120), (1, "train", "a.txt", 120, None)]
>>> [(index, part.line, first) for index, _, _, part, first in
...  place([(0, 9, 2), (1, 0, 0)], items)]  # range 0: 9 lines, 2 sentences
[(0, 0, 0), (1, 9, 2)]
"""

import collections
import math

from tensorflow_datasets.core.example_serializer import ExampleSerializer

from data import beam_shards, file_system
from data.csv_options import SPLITS
from data.tagged.examples import SentenceExamples, features
from data.tagged.options import TaggedError
from data.tagged.ranges import ranges
from data.tagged.reader import Part, TaggedFile
from data.tagged.splits import sentence_splits

# A range's bytes are read into a worker's memory; 64 MiB: one to a few million tokens.
RANGE_BYTES = 64 << 20


def work_items(options, stripes):
    """[(index, source split, path, start byte, end byte or None)] over every file of every
    split of `options` (a `TaggedOptions`), at least `stripes` ranges per file."""
    items = []
    for split in SPLITS:
        for path in options.files_of(split):
            pieces = max(stripes, math.ceil(file_system.stat(path)[0] / RANGE_BYTES))
            for start, end in ranges(path, options.encoding, pieces):
                items.append((len(items), split, path, start, end))
    return items


def extent(item, options):
    """Stage 1 (a worker): (index, lines, sentences) of a work item's range; (index, 0, 0)
    for a file's last range (no range after it needs its counts), (index, None, None) for a
    range with a bad line (stage 2 fails on it, naming the line)."""
    index, split, path, start, end = item
    if end is None:
        return index, 0, 0
    tagged, count, sentences = TaggedFile(path, options), [0], 0
    lines = _counting(tagged.lines(Part(start, end, 0)), count)
    try:
        if split == "train" and options.carved_splits():
            sentences = sum(1 for _ in tagged.parse(lines))
        else:
            collections.deque(lines, maxlen=0)  # only the lines: decoded, counted
    except TaggedError:
        return index, None, None
    return index, count[0], sentences


def _counting(lines, count):
    """`lines`, counted in `count[0]`."""
    for pair in lines:
        count[0] += 1
        yield pair


def place(extents, items):
    """Stage 2's items: (index, split, path, `Part`, index of its first sentence in the
    file) from stage 1's counts; a file's ranges after one with a bad line are left out."""
    counts = {index: (lines, sentences) for index, lines, sentences in extents}
    before = {}  # (split, path) -> the lines and sentences before its next range
    for index, split, path, start, end in items:
        lines, sentences = before.get((split, path), (0, 0))
        if lines is None:
            continue
        yield index, split, path, Part(start, end, lines), sentences
        more_lines, more_sentences = counts[index]
        before[split, path] = (None, None) if more_lines is None else (
            lines + more_lines, sentences + more_sentences)


def write_part(item, options, tasks, prefixes, manifests):
    """Stage 2 (a worker): the sentences of a range as examples, written as its shards."""
    index, split, path, part, first = item
    stored = features([t.name for t in tasks])
    serializer = ExampleSerializer(stored.get_serialized_info())
    example, splits = SentenceExamples(options, tasks), sentence_splits(options, split, path)
    shards = beam_shards.ItemShards(index, prefixes, manifests)
    for i, sentence in enumerate(TaggedFile(path, options).sentences(part), first):
        record = serializer.serialize_example(stored.encode_example(example(sentence)))
        shards.write(splits(i), [record])
    return shards.close()


def build(builder, runner=None, options=None):
    """Runs the pipeline for a `TaggedText` builder being prepared; returns its
    `tfds.core.SplitDict` (the shards have their final names)."""
    import apache_beam as beam

    config = builder.builder_config
    tagged, tasks = config.options, config.schema.tasks
    files = sum(len(tagged.files_of(s)) for s in SPLITS)
    items = work_items(tagged, beam_shards.stripes(options, runner, files))

    def convert(pcoll, prefixes, manifests):
        return (pcoll | "Count" >> beam.Map(extent, tagged) | beam.combiners.ToList()
                | "Place" >> beam.FlatMap(place, items) | "Ranges" >> beam.Reshuffle()
                | "Convert" >> beam.Map(write_part, tagged, tasks, prefixes, manifests))
    splits = [s for s in SPLITS if config.schema.rows[s]]
    return beam_shards.build(builder, splits, items, convert, runner, options)
