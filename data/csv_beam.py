"""A table dataset (`data.name: csv` or `table`: CSV/TSV, JSON Lines, Parquet files) built by
an Apache Beam pipeline: locally on the DirectRunner in several processes, or on Dataflow,
Flink or Spark with Beam's pipeline options (`data.beam_shards`: the options, the pipeline,
the shards each work item writes and the driver names).

The work items are the files, each cut into `n` stripes of blocks when there are fewer
files than workers (a gzip file cannot be split: every stripe's worker decompresses and
parses the whole file, about 1 s per million rows, and converts its own blocks). A work
item converts its blocks with the same code as the single-process path
(`data.csv_dataset.file_blocks`, `data.csv_writer.ExampleEncoder`) and writes its shards
itself; the driver names them in work-item order. So the examples are those of the
single-process build (the tests compare them), in the order of the stripes (file by file;
within a file, stripe by stripe).

Example:
>>> from data.csv_beam import work_items
>>> from data.csv_options import make_options
>>> options = make_options(train="examples/customers.csv", labels={"churned": "binary"})
>>> [item[::3] for item in work_items(options, 2)]  # (index, stripe)
[(0, 0), (1, 1)]
"""

from data import beam_shards
from data.csv_options import SPLITS
from data.csv_schema import CsvSchema
from data.csv_writer import ExampleEncoder


def work_items(csv_options, n):
    """[(index, source split, path, stripe, n)] over every file of every split."""
    sources = [(split, path) for split in SPLITS for path in csv_options.files_of(split)]
    return [(i * n + k, split, path, k, n) for i, (split, path) in enumerate(sources)
            for k in range(n)]


def write_item(item, blocks, features, schema_config, csv_options, prefixes, manifests):
    """One work item (in a Beam worker): its blocks (`blocks`: the builder's
    `file_blocks`) converted and written as its shards (`beam_shards.ItemShards`)."""
    index, split, path, k, n = item
    schema = CsvSchema.from_config(schema_config)
    encode = ExampleEncoder(features)
    shards = beam_shards.ItemShards(index, prefixes, manifests)
    for target, _, columns in blocks(schema, csv_options, split, path, stripe=(k, n)):
        shards.write(target, encode(columns))
    return shards.close()


def build(builder, blocks, features, runner=None, options=None):
    """Runs the pipeline for a `MultiTaskCsv` builder being prepared (`blocks`: its
    `file_blocks`; `features`: its stored features); returns its `tfds.core.SplitDict`
    (the shards have their final names)."""
    import apache_beam as beam

    schema, csv_options = builder.builder_config.schema, builder.builder_config.options
    files = sum(len(csv_options.files_of(s)) for s in SPLITS)
    items = work_items(csv_options, beam_shards.stripes(options, runner, files))

    def convert(pcoll, prefixes, manifests):
        return pcoll | "Convert" >> beam.Map(write_item, blocks, features, schema.to_config(),
                                             csv_options, prefixes, manifests)
    return beam_shards.build(builder, builder._splits(), items, convert, runner, options)
