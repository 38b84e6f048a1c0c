"""Builds whose Apache Beam work items write their own shards: the Beam half shared by the
table builder (`data.csv_beam`) and the tagged-text builder (`data.tagged.beam`).

A builder plans its work items in the driver (after its analysis, which never runs in
Beam), each item a tuple whose first element is its index; `build` runs them as a pipeline
(locally on the DirectRunner, or on Dataflow, Flink or Spark under Beam's pipeline options),
where each item converts its share of the files with the builder's single-process code and
writes its shards itself under `<split prefix>.item<index>`, with a small manifest beside
them (`ItemShards`). The driver then names every split's shards in work-item order and
records the split sizes: the examples come in work-item order, whatever order the workers
ran in.

Options are TFDS's `--beam_pipeline_options` text: comma-separated `key=value` flags of
Beam's `PipelineOptions` (`runner=DataflowRunner,project=...,region=...,temp_location=gs://...`;
`direct_num_workers=2,direct_running_mode=multi_processing`). What Beam rejects is a
`BeamOptionsError` carrying Beam's message; flags Beam does not know (which Beam would
drop with a warning) are rejected too, with the closest known name.

Every worker must read the input files and write the data dir: local or shared paths here;
on a cluster, paths every worker reaches: an object store (`gs://...`, or any other file system
TensorFlow has: the work items carry the paths, and each worker opens them as the
single-process path does, `data.file_system`) or a file system all workers mount; and
workers that can import this repository (a custom SDK container, or `--setup_file`).

Example:
>>> from data.beam_shards import pipeline_options, stripes
>>> options = pipeline_options("direct_num_workers=2,direct_running_mode=multi_processing")
>>> options.get_all_options()["direct_num_workers"], stripes(options, None, files=1)
(2, 2)
>>> pipeline_options("direct_running_mode=fast")
Traceback (most recent call last):
...
data.beam_shards.BeamOptionsError: --beam_pipeline_options: argument --direct_running_mode: invalid choice: 'fast' (choose from 'in_memory', 'multi_threading', 'multi_processing')
>>> pipeline_options("direct_num_worker=2")
Traceback (most recent call last):
...
data.beam_shards.BeamOptionsError: --beam_pipeline_options: Beam has no option 'direct_num_worker' (did you mean direct_num_workers?)
"""

import contextlib
import difflib
import importlib
import io
import json
import math
import os
import re

import tensorflow as tf
import tensorflow_datasets as tfds

from data.csv_writer import ShardWriter, name_shards

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
    """Work items per file: enough for the DirectRunner's worker processes or threads;
    one item per file on other runners (shard big data into many files)."""
    known = options.get_all_options() if options is not None else {}
    name = runner if isinstance(runner, (str, type(None))) else type(runner).__name__
    name = known.get("runner") or name
    if name not in LOCAL_RUNNERS or known.get("direct_running_mode", "in_memory") == "in_memory":
        return 1
    workers = known.get("direct_num_workers") or os.cpu_count() or 1
    return max(1, math.ceil(workers / max(1, files)))


class ItemShards:
    """The shards one work item writes (in a Beam worker), per split, under
    `prefixes[split].item<index>`; `close` writes its manifest into `manifests`, from which
    the driver names them.

    Args:
        index: int. The work item's index (its place in the examples' order).
        prefixes: dict. Split -> the prefix of its shards (the TFDS template's).
        manifests: str. The folder of the work items' manifests.
    """

    def __init__(self, index, prefixes, manifests):
        self.index, self.prefixes, self.manifests = index, prefixes, manifests
        self.writers = {}

    def write(self, split, records):
        """Appends serialized examples (bytes) to the split's shards."""
        if split not in self.writers:
            self.writers[split] = ShardWriter(
                None, prefix=f"{self.prefixes[split]}.item{self.index:05d}")
        self.writers[split].write(records)

    def close(self):
        manifest = {}
        for split, writer in self.writers.items():
            writer.close()
            manifest[split] = {"paths": writer.paths, "lengths": writer.lengths,
                               "bytes": writer.num_bytes}
        path = os.path.join(self.manifests, f"item{self.index:05d}.json")
        with tf.io.gfile.GFile(path, "w") as f:
            f.write(json.dumps(manifest))
        return self.index


def build(builder, splits, items, convert, runner=None, options=None):
    """Runs the work items `items` of a TFDS builder being prepared as a pipeline; returns
    its `tfds.core.SplitDict` (the shards have their final names).

    `convert(pcoll, prefixes, manifests)` adds the builder's transforms to the
    (reshuffled) items' PCollection; every item must close an `ItemShards` made with its
    index, `prefixes` (split -> shard prefix, for each of `splits`) and `manifests`."""
    import apache_beam as beam

    templates = {s: builder._get_filename_template(s) for s in splits}
    prefixes = {s: os.fspath(t.filepath_prefix()) for s, t in templates.items()}
    manifests = os.path.join(os.path.dirname(next(iter(prefixes.values()))), "beam-items")
    tf.io.gfile.makedirs(manifests)
    try:
        pipeline = beam.Pipeline(runner=runner, options=options)
    except ValueError as e:  # an unknown runner, ...
        raise BeamOptionsError(f"--beam_pipeline_options: {e}") from None
    _ = convert(pipeline | "WorkItems" >> beam.Create(items) | beam.Reshuffle(), prefixes,
                manifests)
    with _importable():
        try:
            pipeline.run().wait_until_finish()
        except Exception as e:
            data_error = worker_error(e)
            if data_error is not None:
                raise data_error from None
            if not isinstance(e, ValueError) or "validation" not in str(e):
                raise
            raise BeamOptionsError(f"--beam_pipeline_options: {e}") from None  # Dataflow's
    return _split_dict(templates, items, manifests)


# A line of a worker's traceback as the runner reports it: `data.x.SomeError: message`,
# with what Beam appends to it.
_RAISED = re.compile(r"^(data(?:\.\w+)+)\.(\w+): (.+?)(?: \[while running '[^']*'\])*$",
                     re.MULTILINE)


def worker_error(error):
    """The data error (a `CsvError`: bad file contents, file and line named) a work item
    raised, from the runner's exception (which carries the worker's traceback as text, on
    the DirectRunner as on Dataflow), or None: a bad line fails a Beam build with the
    error the single-process build gives."""
    from data.csv_options import CsvError

    for match in _RAISED.finditer(str(error)):
        module, name, message = match.groups()
        try:
            cls = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
        if isinstance(cls, type) and issubclass(cls, CsvError):
            return cls(message)
    return None


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
