"""A table dataset (`data.name: csv` or `table`: CSV/TSV, JSON Lines, Parquet files) built by
an Apache Beam pipeline: locally on the DirectRunner in several processes, or on Dataflow,
Flink or Spark with Beam's pipeline options.

The work items are the files, each cut into `n` stripes of blocks when there are fewer
files than workers (a gzip file cannot be split: every stripe's worker decompresses and
parses the whole file, about 1 s per million rows, and converts its own blocks). A work
item converts its blocks with the same code as the single-process path
(`data.csv_dataset.file_blocks`, `data.csv_writer.ExampleEncoder`), writes its shards
itself and a small manifest beside them; the pipeline's driver then names every
split's shards in work-item order and records the split sizes. So the examples are
those of the single-process build (the tests compare them), in the order of the
stripes (file by file; within a file, stripe by stripe).

Options are TFDS's `--beam_pipeline_options` text: comma-separated `key=value` flags of
Beam's `PipelineOptions` (`runner=DataflowRunner,project=...,region=...,temp_location=gs://...`;
`direct_num_workers=2,direct_running_mode=multi_processing`). What Beam rejects is a
`BeamOptionsError` carrying Beam's message; flags Beam does not know (which Beam would
drop with a warning) are rejected too, with the closest known name.

Every worker must read the table files and write the data dir: local or shared paths here;
on a cluster, paths every worker reaches: an object store (`gs://...`, or any other file system
TensorFlow has: the work items carry the paths, and each worker opens them as the
single-process path does, `data.file_system`) or a file system all workers mount; and
workers that can import this repository (a custom SDK container, or `--setup_file`).

Example:
>>> from data.csv_beam import pipeline_options
>>> options = pipeline_options("direct_num_workers=2,direct_running_mode=multi_processing")
>>> options.get_all_options()["direct_num_workers"]
2
>>> pipeline_options("direct_running_mode=fast")
Traceback (most recent call last):
...
data.csv_beam.BeamOptionsError: --beam_pipeline_options: argument --direct_running_mode: invalid choice: 'fast' (choose from 'in_memory', 'multi_threading', 'multi_processing')
>>> pipeline_options("direct_num_worker=2")
Traceback (most recent call last):
...
data.csv_beam.BeamOptionsError: --beam_pipeline_options: Beam has no option 'direct_num_worker' (did you mean direct_num_workers?)
"""

import contextlib
import difflib
import io
import json
import math
import os

import tensorflow as tf
import tensorflow_datasets as tfds

from data.csv_options import SPLITS
from data.csv_schema import CsvSchema
from data.csv_writer import ExampleEncoder, ShardWriter, name_shards

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCAL_RUNNERS = (None, "DirectRunner", "SwitchingDirectRunner", "FnApiRunner",
                 "BundleBasedDirectRunner", "PrismRunner")


class BeamOptionsError(ValueError):
    """Beam pipeline options that Beam rejects (Beam's message)."""


def pipeline_options(text):
    """`key=value,key=value` (TFDS's `--beam_pipeline_options`) -> Beam's `PipelineOptions`."""
    from apache_beam.options.pipeline_options import PipelineOptions

    flags = [f"--{item.strip()}" for item in (text or "").split(",") if item.strip()]
    options = PipelineOptions(flags)
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):  # argparse prints its usage, then exits
            known = options.get_all_options(retain_unknown_options=False)
    except SystemExit:
        lines = [line for line in err.getvalue().splitlines() if "error:" in line]
        message = lines[-1].split("error:", 1)[1].strip() if lines else err.getvalue().strip()
        raise BeamOptionsError(f"--beam_pipeline_options: {message}") from None
    runner = known.get("runner")
    if runner:
        from apache_beam.runners.runner import create_runner
        try:
            create_runner(runner)
        except ValueError as e:
            raise BeamOptionsError(f"--beam_pipeline_options: {e}") from None
    for flag in flags:
        name = flag[2:].split("=", 1)[0]
        if name not in known and not (name.startswith("no_") and name[3:] in known):
            close = difflib.get_close_matches(name, known, n=1)
            raise BeamOptionsError(f"--beam_pipeline_options: Beam has no option {name!r}"
                                   + (f" (did you mean {close[0]}?)" if close else ""))
    return options


def stripes(options, runner, files):
    """Stripes per file: enough work items for the DirectRunner's worker processes or
    threads; one item per file on other runners (shard big data into many files)."""
    known = options.get_all_options() if options is not None else {}
    name = runner if isinstance(runner, (str, type(None))) else type(runner).__name__
    name = known.get("runner") or name
    if name not in LOCAL_RUNNERS or known.get("direct_running_mode", "in_memory") == "in_memory":
        return 1
    workers = known.get("direct_num_workers") or os.cpu_count() or 1
    return max(1, math.ceil(workers / max(1, files)))


def work_items(csv_options, n):
    """[(index, source split, path, stripe, n)] over every file of every split."""
    sources = [(split, path) for split in SPLITS for path in csv_options.files_of(split)]
    return [(i * n + k, split, path, k, n) for i, (split, path) in enumerate(sources)
            for k in range(n)]


def write_item(item, blocks, features, schema_config, csv_options, prefixes, manifests):
    """One work item (in a Beam worker): its blocks (`blocks`: the builder's
    `file_blocks`) converted and written as shards under `prefixes[split].item<index>`,
    and a manifest of them in `manifests`."""
    index, split, path, k, n = item
    schema = CsvSchema.from_config(schema_config)
    encode = ExampleEncoder(features)
    writers = {}
    for target, _, columns in blocks(schema, csv_options, split, path, stripe=(k, n)):
        if target not in writers:
            writers[target] = ShardWriter(None, prefix=f"{prefixes[target]}.item{index:05d}")
        writers[target].write(encode(columns))
    manifest = {}
    for target, writer in writers.items():
        writer.close()
        manifest[target] = {"paths": writer.paths, "lengths": writer.lengths,
                            "bytes": writer.num_bytes}
    with tf.io.gfile.GFile(os.path.join(manifests, f"item{index:05d}.json"), "w") as f:
        f.write(json.dumps(manifest))
    return index


def build(builder, blocks, features, runner=None, options=None):
    """Runs the pipeline for a `MultiTaskCsv` builder being prepared (`blocks`: its
    `file_blocks`; `features`: its stored features); returns its `tfds.core.SplitDict`
    (the shards have their final names)."""
    import apache_beam as beam

    schema, csv_options = builder.builder_config.schema, builder.builder_config.options
    templates = {s: builder._get_filename_template(s) for s in builder._splits()}
    prefixes = {s: os.fspath(t.filepath_prefix()) for s, t in templates.items()}
    manifests = os.path.join(os.path.dirname(next(iter(prefixes.values()))), "beam-items")
    tf.io.gfile.makedirs(manifests)
    files = sum(len(csv_options.files_of(s)) for s in SPLITS)
    items = work_items(csv_options, stripes(options, runner, files))
    try:
        pipeline = beam.Pipeline(runner=runner, options=options)
    except ValueError as e:  # an unknown runner, ...
        raise BeamOptionsError(f"--beam_pipeline_options: {e}") from None
    _ = (pipeline | "WorkItems" >> beam.Create(items) | beam.Reshuffle()
         | "Convert" >> beam.Map(write_item, blocks, features, schema.to_config(), csv_options,
                                 prefixes, manifests))
    with _importable():
        try:
            pipeline.run().wait_until_finish()
        except ValueError as e:
            if "validation" not in str(e):
                raise
            raise BeamOptionsError(f"--beam_pipeline_options: {e}") from None  # Dataflow's
    return _split_dict(templates, items, manifests)


def _split_dict(templates, items, manifests):
    """Every split's shards, named in work-item order, as TFDS's split infos."""
    shards = {s: ([], []) for s in templates}
    total = {s: 0 for s in templates}
    for index, *_ in items:
        path = os.path.join(manifests, f"item{index:05d}.json")
        with tf.io.gfile.GFile(path) as f:
            for split, written in json.loads(f.read()).items():
                shards[split][0].extend(written["paths"])
                shards[split][1].extend(written["lengths"])
                total[split] += written["bytes"]
    tf.io.gfile.rmtree(manifests)
    infos = []
    for split, (paths, lengths) in shards.items():
        name_shards(templates[split], paths)
        infos.append(tfds.core.SplitInfo(name=split, shard_lengths=lengths,
                                         num_bytes=total[split],
                                         filename_template=templates[split]))
    return tfds.core.SplitDict(infos)


@contextlib.contextmanager
def _importable():
    """The DirectRunner's worker processes import this repository's modules (the work
    items' functions are pickled by reference): the repository on their PYTHONPATH."""
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (REPO, saved) if p)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
