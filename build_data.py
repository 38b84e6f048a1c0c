#!/usr/bin/env python
"""Build the dataset of an experiment config (what train.py does first), in this process or as
an Apache Beam pipeline (TFDS's `--beam_pipeline_options` way).

    python build_data.py --config configs/my_csv.yaml
    python build_data.py --config configs/my_csv.yaml \\
        --beam_pipeline_options "direct_num_workers=2,direct_running_mode=multi_processing"
    # Dataflow: the config's table files and data.data_dir on gs:// (workers share no disk)
    python build_data.py --config configs/my_csv.yaml --beam_pipeline_options \\
        "runner=DataflowRunner,project=PROJECT,region=REGION,temp_location=gs://BUCKET/tmp,sdk_container_image=IMAGE"
    python build_data.py --config configs/my_csv.yaml --beam_pipeline_options \\
        "runner=FlinkRunner,flink_master=HOST:8081,environment_type=EXTERNAL,environment_config=HOST:50000"
    python build_data.py --config configs/my_csv.yaml --beam_pipeline_options \\
        "runner=SparkRunner,spark_master_url=spark://HOST:7077,environment_type=EXTERNAL,environment_config=HOST:50000"

The dataset (each source's, for a mixture: data.sources) goes to data.data_dir, where
train.py, evaluate.py and studies then find it built. Beam builds the datasets read from
user files: the tables (data.name: csv or table: CSV/TSV, JSON Lines, Parquet) and the
tagged column files (data.name: conll: CoNLL, CoNLL-U); the others (the generated and
catalogue datasets) build in this process, and Beam options given for them are a config
error naming the dataset. Options: Beam's PipelineOptions as comma-separated key=value
(without the leading --); every Beam worker must read the data files and write
data.data_dir (docs/guide/csv.md).
Exit status: 0 built (or already there), 2 a config error (a bad config key or data option,
Beam options that Beam rejects: Beam's message).
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="an experiment config (configs/*.yaml)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key (repeatable), as with train.py")
    p.add_argument("--beam_pipeline_options", default=None, metavar="KEY=VALUE,...",
                   help="build with Apache Beam under these pipeline options (\"\": the "
                        "DirectRunner's defaults)")
    args = p.parse_args(argv)

    from training.config import ConfigError, load_config

    try:
        config = load_config(args.config, args.set)
        return build(config, args.beam_pipeline_options)
    except (ConfigError, ValueError, KeyError) as e:  # CsvError, BeamOptionsError included
        print(f"config error: {e}", file=sys.stderr)
        return 2


def build(config, beam_text=None):
    """Builds the config's dataset (each source's, for a mixture); prints where and how big;
    the exit status."""
    from training.experiment import Experiment

    options = None
    if beam_text is not None:
        from data.beam_shards import pipeline_options
        options = pipeline_options(beam_text)
    experiment = Experiment(config)
    specs = [source.spec for source in experiment.mixture.sources]
    builders = [beam_builder(spec, experiment.data_dir) if options else None for spec in specs]
    for spec, builder in zip(specs, builders):
        start = time.perf_counter()
        builder = build_one(spec, experiment.data_dir, builder, options)
        sizes = {s: int(i.num_examples) for s, i in builder.info.splits.items()}
        print(f"dataset {spec.name} in {builder.data_dir}: {sizes} "
              f"({time.perf_counter() - start:.1f} s{', with Beam' if options else ''})")
    experiment.prepare()  # a mixture's sources: each training split named is there
    return 0


def beam_builder(spec, data_dir):
    """The TFDS builder of a dataset Beam can build; a ValueError naming it otherwise (checked
    for every source before any is built)."""
    from data import pipeline

    builder = pipeline.builder(spec, data_dir) if spec.prepare is None else None
    if builder is None or not getattr(type(builder), "BEAM", False):
        raise ValueError(f"--beam_pipeline_options: dataset {spec.name!r} builds in one "
                         "process only; Beam builds the datasets of user files: data.name: "
                         "csv (or table: CSV/TSV, JSON Lines and Parquet files) and conll "
                         "(column files); valid: no --beam_pipeline_options for the others")
    return builder


def build_one(spec, data_dir, builder=None, options=None):
    """Builds one dataset (with Beam under `options`, given its builder); returns the builder."""
    import tensorflow_datasets as tfds

    from data import pipeline

    if options is None:
        return pipeline.prepare(spec, data_dir)
    if not builder.is_prepared():
        builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
            beam_options=options))
    return builder


if __name__ == "__main__":
    sys.exit(main())
