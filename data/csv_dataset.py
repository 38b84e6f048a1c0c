"""`csv`: your own CSV/TSV file(s) as a multi-task TFDS dataset.

A config names the files and the labels with their task kinds; everything else is
optional (docs/guide/csv.md lists every option):

    data:
      name: csv
      options:
        train: data/census-train-*.csv.gz     # a path, a glob or a list; compressed or not;
                                              # local, or gs://... (data.file_system)
        test: data/census-test.csv.gz
        header: false                         # headerless files: name the columns
        column_names: [age, class_of_worker, ..., marital_stat, ..., income]
        extra_na_values: ["?"]                # added to the default missing-value cells
        exclude: [instance_weight]            # never a feature
        labels:
          income: {kind: binary, classes: ["- 50000.", "50000+."]}
          never_married: {kind: binary, column: marital_stat, positive: [Never married]}

The `MultiTaskCsv` builder (TFDS name `multi_task_csv`) generates the dataset into
`data_dir/multi_task_csv/<file stem>-<fingerprint>/`, where the fingerprint hashes the
options and each file's path, size and modification time (editing a file makes a new
dataset, never a stale one). The analysis (`data.csv_schema`: types, vocabularies,
statistics, tasks, the report) is cached there as `csv_schema.json`, so it runs once
per dataset version, not once per process. The build prints the report (on stderr), and
`info.metadata` keeps it with the tasks, the inputs, the original column names, the
split sources and the row and label counts.

Generation streams each file in blocks (pyarrow), converts every column of a block
at once and serializes the block's `tf.Example`s in a few TensorFlow ops
(`data.csv_writer`). With Beam pipeline options or a runner
(`python build_data.py --beam_pipeline_options ...`, or `download_and_prepare(
download_config=tfds.download.DownloadConfig(beam_options=...))` as with any TFDS
builder) the same conversion runs as an Apache Beam pipeline (`data.csv_beam`): on the
DirectRunner in several processes here, on Dataflow, Flink or Spark beyond one machine;
it gives the same examples.

Features are stored as the training rows saw them (numbers with NaN for missing
cells; text stripped when `strip_whitespace`, "" when missing; each input kind's
`stored_values`), and the model repeats the imputation, stripping, normalisation and
vocabulary lookup in its own layers (each input kind's `preprocess`, `inputs/`), so the
exported model takes the file's raw cells.

Example:
>>> import data
>>> from data.pipeline import load_split
>>> spec = data.get_dataset("csv", train="examples/customers.csv",
...                         labels={"churned": "binary", "spend": "regression"})
>>> inputs, labels, masks = next(iter(load_split(spec, "train", spec.tasks, "tfds_data", 4)))
>>> sorted(labels)
['churned', 'spend']
"""

import os
import sys
import time

import numpy as np
import pyarrow as pa
import tensorflow_datasets as tfds

from data import csv_beam
from data.csv_cells import SPLIT_CODES, Cells, encode_labels
from data.csv_options import SPLITS, CsvError, identifier, make_options
from data.csv_schema import CsvSchema, load_or_analyze
from data.csv_writer import ExampleEncoder, ShardWriter
from data.offline_builder import OfflineBuilder
from data.table_reader import open_table
from data.dataset_spec import DatasetSpec
from inputs import inputs_to_config
from tasks import tasks_to_config
from utils.arguments import Arg, arguments


# The pipeline keeps decoded examples in memory up to this many cells (rows x columns).
CACHE_MAX_CELLS = 20_000_000
# Row keys: file index in the high bits, row index in the file in the low ones.
ROW_BITS = 40


class CsvConfig(tfds.core.BuilderConfig):
    """A `multi_task_csv` configuration: the `CsvOptions` and their `CsvSchema`."""

    def __init__(self, *, options, schema, **kwargs):
        super().__init__(**kwargs)
        self.options = options
        self.schema = schema


def stored_features(schema):
    """{feature name: (dtype, shape)} of the stored examples: inputs, then labels."""
    out = {spec.name: spec.stored_feature for spec in schema.inputs}
    for task in schema.tasks:
        out[task.name] = (task.label_dtype, tuple(task.label_shape))
    return out


def block_columns(schema, options, cells, file, offset, batch):
    """One block of a file -> {stored feature: numpy column} (every row of the block)."""
    out = {}
    for spec in schema.inputs:
        column = schema.columns[spec.name]
        try:  # each kind stores its cells (numbers: NaN when missing; text: "")
            out[spec.name] = spec.stored_values(cells, batch.column(column),
                                                lambda i: file.where(offset + i, column))
        except ValueError as e:
            raise CsvError(str(e)) from None
    specs = {s.name: s for s in options.label_specs()}
    for task in schema.tasks:
        spec = specs[task.name]
        values, missing = cells.text(batch.column(spec.column))
        try:
            out[task.name] = encode_labels(
                task, values, missing, lambda i: file.where(offset + i, spec.column),
                separator=options.multilabel_separator, none=options.multilabel_none,
                **spec.kind_options)
        except ValueError as e:
            raise CsvError(str(e)) from None
    return out


def take(column, rows):
    """Rows `rows` of a stored column (numpy, or a pyarrow ListArray of ids)."""
    return column.take(pa.array(rows)) if isinstance(column, pa.Array) else column[rows]


def file_blocks(schema, options, split, path, stripe=(0, 1)):
    """Yields (split, row keys, {feature: column}) for the rows of one file, block by
    block; a train file's rows go to train or to the splits carved out of it.
    `stripe` (k, n): only every n-th block from the k-th (a Beam work item's share of a
    file; the blocks it skips are parsed, not converted)."""
    cells = Cells(options)
    file = open_table(path, options)
    file_index = options.files_of(split).index(path)
    base = (SPLIT_CODES[split] * 1024 + file_index) << ROW_BITS  # unique across splits
    wanted = list(dict.fromkeys([schema.columns[i.name] for i in schema.inputs] +
                                [s.column for s in options.label_specs()]))
    for index, (offset, batch) in enumerate(file.blocks(wanted)):
        if index % stripe[1] != stripe[0]:
            continue
        columns = block_columns(schema, options, cells, file, offset, batch)
        keys = base + offset + np.arange(batch.num_rows, dtype=np.int64)
        if split != "train" or not options.carved_splits():
            yield split, keys, columns
            continue
        codes = cells.split_codes(path, offset, batch.num_rows)
        for s in SPLITS:
            rows = np.flatnonzero(codes == SPLIT_CODES[s])
            if rows.size:
                yield s, keys[rows], {k: take(v, rows) for k, v in columns.items()}


class MultiTaskCsv(OfflineBuilder):
    """A user's CSV/TSV files with per-task labels; see `data.csv_dataset`."""

    VERSION = tfds.core.Version("2.0.0")
    RELEASE_NOTES = {"2.0.0": "pyarrow streaming, text stripped as the model strips it, "
                              "seeded hash split, vectorised writing.",
                     "1.0.0": "First version."}
    # Configs are made from options (`data.get_dataset("csv", ...)`), never predefined.
    BUILDER_CONFIGS = []
    # Builds as an Apache Beam pipeline too (`data.csv_beam`; build_data.py
    # --beam_pipeline_options).
    BEAM = True

    def _info(self):
        config = self.builder_config
        if config is None:
            raise CsvError("The multi_task_csv builder needs a config made from options: "
                           "data.get_dataset('csv', train=..., labels={...})")
        schema = config.schema
        features = {}
        for name, (dtype, shape) in stored_features(schema).items():
            if dtype == "string":  # a cell, or a list of ids (shape (None,))
                features[name] = tfds.features.Sequence(tfds.features.Text()) if shape else \
                    tfds.features.Text()
            else:
                features[name] = tfds.features.Tensor(shape=shape, dtype=np.dtype(dtype))
        metadata = tfds.core.MetadataDict(
            tasks=tasks_to_config(schema.tasks), inputs=inputs_to_config(schema.inputs),
            columns=dict(schema.columns), sources=dict(schema.sources), rows=dict(schema.rows),
            label_counts=schema.label_counts, schema_report=list(schema.report),
            options=config.options.to_config())
        return tfds.core.DatasetInfo(builder=self, description=__doc__,
                                     # Keep file order; the pipeline shuffles with its own seed.
                                     disable_shuffling=True,
                                     features=tfds.features.FeaturesDict(features),
                                     metadata=metadata)

    def _splits(self):
        return [s for s in SPLITS if self.builder_config.schema.rows.get(s)]

    def _download_and_prepare(self, dl_manager, download_config):
        schema, options = self.builder_config.schema, self.builder_config.options
        # The report goes with the build (train.py shows it the first time a file is used),
        # on stderr: standard output stays the program's own (a doctest's, a pipe's).
        print(f"CSV schema of {self.builder_config.name} (also in info.metadata):\n"
              f"{schema.format()}", file=sys.stderr, flush=True)
        if download_config.beam_runner is not None or download_config.beam_options is not None:
            self.info.set_splits(csv_beam.build(
                self, file_blocks, stored_features(schema), download_config.beam_runner,
                download_config.beam_options))
            return
        start = time.perf_counter()
        encode = ExampleEncoder(stored_features(schema))
        writers = {s: ShardWriter(self._get_filename_template(s)) for s in self._splits()}
        for split in SPLITS:
            for path in options.files_of(split):
                for target, _, columns in file_blocks(schema, options, split, path):
                    writers[target].write(encode(columns))
        infos = []
        for split, writer in writers.items():
            lengths, num_bytes = writer.finish()
            infos.append(tfds.core.SplitInfo(name=split, shard_lengths=lengths,
                                             num_bytes=num_bytes,
                                             filename_template=self._get_filename_template(split)))
        self.info.set_splits(tfds.core.SplitDict(infos))
        self.info.metadata["generation_seconds"] = round(time.perf_counter() - start, 3)

    # Both paths (above, and `data.csv_beam`) write the shards themselves: TFDS's
    # per-example generation is never used.
    def _split_generators(self, dl_manager):
        raise NotImplementedError

    def _generate_examples(self, **kwargs):
        raise NotImplementedError


_SCHEMAS = {}  # fingerprint -> CsvSchema: the trainer and the exporter ask for the same spec


def make_config(options, data_dir=None):
    """The builder config of `options`, named after the first train file and the
    fingerprint; its schema is read from the cache beside the built data when there."""
    from data.pipeline import default_data_dir

    fingerprint = options.fingerprint()
    first = os.path.basename(options.train[0])
    stem = identifier(first.split(".")[0])
    name = f"{stem}-{fingerprint}"
    if fingerprint not in _SCHEMAS:
        folder = os.path.join(data_dir or default_data_dir(), "multi_task_csv", name)
        _SCHEMAS[fingerprint] = load_or_analyze(options, folder)
    return CsvConfig(name=name, options=options, schema=_SCHEMAS[fingerprint],
                     description=f"CSV dataset from {', '.join(options.train[:3])}")


@arguments(train=Arg((str, list), "training file(s): a path, a glob, or a list of them", item=str),
           labels=Arg(dict, "label column -> a kind, or {kind, column, classes, positive...}"),
           validation=Arg((str, list), "validation file(s); null: split from train", item=str,
                          null=True),
           test=Arg((str, list), "test file(s); null: split from train", item=str, null=True),
           features=Arg(list, "the feature columns; null: every other column", item=str,
                        null=True),
           exclude=Arg(list, "columns that are neither features nor labels", item=str, null=True),
           feature_types=Arg(dict, "column -> numeric, categorical, text or list (else inferred)",
                             item=str, choices=("numeric", "categorical", "text", "list"),
                             null=True),
           header=Arg(bool, "the files start with a header line; null: detect", null=True),
           column_names=Arg(list, "names of headerless files' columns", item=str, null=True),
           delimiter=Arg(str, "the field separator; null: detect", null=True),
           split=Arg(dict, "fractions held out of train when a split has no files", item=float,
                     range="[0, 1)", null=True),
           seed=Arg(int, "seeds the held-out split", range="[0, 2147483647]"),
           na_values=Arg(list, "cells read as missing (replaces the default list)", item=str,
                         null=True),
           extra_na_values=Arg(list, "cells read as missing too", item=str, null=True),
           strip_whitespace=Arg(bool, "strip spaces around cells"),
           min_frequency=Arg(int, "occurrences a category needs to be in the vocabulary",
                             range="[1, inf)"),
           multilabel_separator=Arg(str, "separates a multilabel cell's classes"),
           multilabel_none=Arg(str, "a multilabel cell with no class"),
           format=Arg(str, "csv, tsv, jsonl or parquet; null: by each file's name",
                      choices=("csv", "tsv", "jsonl", "parquet"), null=True),
           feature_options=Arg(dict, "column -> {treatment, num_buckets, max_tokens, min_count, "
                               "num_oov_buckets, embedding_dim, shared_embedding, separator, "
                               "pooling, lowercase}", null=True),
           hash_threshold=Arg(int, "distinct training values above which an id column is "
                              "hashed", range="[1, inf)"),
           hash_buckets=Arg(int, "buckets of a column hashed without its own num_buckets",
                            range="[1, inf)"),
           data_dir=Arg(str, "where the schema is cached; give data.data_dir's", null=True))
def csv_dataset(train, labels, validation=None, test=None, features=None, exclude=None,
                feature_types=None, header=None, column_names=None, delimiter=None, split=None,
                seed=0, na_values=None, extra_na_values=None, strip_whitespace=True,
                min_frequency=1, multilabel_separator="|", multilabel_none="none",
                format=None, feature_options=None, hash_threshold=100_000,
                hash_buckets=100_000, data_dir=None):
    """Spec of a CSV dataset; options as in `data.csv_options.CsvOptions`. `data_dir` is
    where the schema is cached (default `$TFDS_DATA_DIR` or `tfds_data`): give the same one
    as `data.data_dir`."""
    if not isinstance(labels, dict) or not labels:
        raise CsvError("data.options.labels: required, a mapping label -> kind or "
                       f"{{kind: ..., column: ...}}; got {labels!r}")
    options = make_options(
        train=train, labels=labels, validation=validation, test=test, features=features,
        exclude=exclude, feature_types=feature_types, header=header, column_names=column_names,
        delimiter=delimiter, split=split, seed=seed, na_values=na_values,
        extra_na_values=extra_na_values, strip_whitespace=strip_whitespace,
        min_frequency=min_frequency, multilabel_separator=multilabel_separator,
        multilabel_none=multilabel_none, format=format, feature_options=feature_options,
        hash_threshold=hash_threshold, hash_buckets=hash_buckets)
    config = make_config(options, data_dir)
    schema = config.schema
    splits = {s: s for s in SPLITS if schema.rows.get(s)}
    cells = sum(schema.rows.values()) * (len(schema.inputs) + len(schema.tasks))
    return DatasetSpec(name="csv", tfds_name="multi_task_csv", tasks=schema.tasks,
                       inputs=schema.inputs, splits=splits, builder_kwargs={"config": config},
                       cache=cells <= CACHE_MAX_CELLS,
                       description=f"CSV dataset from {', '.join(options.train[:3])}")
