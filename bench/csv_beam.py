"""CSV build time, single process against Apache Beam's DirectRunner in worker processes, on
bench/csv_ingest.py's file (1,000,000 rows x 40 columns, gzip, 5% missing cells).

The file is generated into a temporary folder; then each build runs in a fresh process, into
its own data dir: the schema analysis first (not timed: both paths share it), then the timed
build, `pipeline.prepare` (one process, the default) or `download_and_prepare` with
`direct_num_workers=N,direct_running_mode=multi_processing` (data/csv_beam.py: the file is
cut into N stripes of blocks, one work item each). Prints both times, the ratio, the
examples per split of each (which must match) and the load average before and after (the
machine's other work skews both).

Run:  .venv/bin/python bench/csv_beam.py                      # 1,000,000 rows, 2 workers
      .venv/bin/python bench/csv_beam.py --rows 100000 --workers 2
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.csv_ingest import LABELS, generate  # noqa: E402


def build(path, data_dir, beam):
    """The measured part, in its own process: prints one JSON line (seconds, split sizes)."""
    import tensorflow_datasets as tfds

    from data import pipeline
    from data.beam_shards import pipeline_options
    from data.csv_dataset import csv_dataset

    spec = csv_dataset(train=path, labels=LABELS, extra_na_values=["?"],
                       split={"validation": 0.1, "test": 0.1}, data_dir=data_dir)
    start = time.perf_counter()
    if beam:
        builder = pipeline.builder(spec, data_dir)
        builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
            beam_options=pipeline_options(beam)))
    else:
        builder = pipeline.prepare(spec, data_dir)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "sizes": {s: int(i.num_examples) for s, i in
                                                    builder.info.splits.items()}}))


def measure(path, data_dir, beam):
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--build", path, data_dir,
                          beam or ""], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--build", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.build:
        return build(args.build[0], args.build[1], args.build[2])
    folder = tempfile.mkdtemp(prefix="csv_beam_")
    try:
        path = os.path.join(folder, "bench.csv.gz")
        generate(path, args.rows)
        print(f"generated {args.rows:,} rows: {os.path.getsize(path) / 1e6:.0f} MB gzip; "
              f"load average before: {os.getloadavg()[0]:.2f}")
        beam = f"direct_num_workers={args.workers},direct_running_mode=multi_processing"
        one = measure(path, os.path.join(folder, "one"), None)
        print(f"single process:             {one['seconds']:6.1f} s  "
              f"{args.rows / one['seconds']:9,.0f} rows/s  {one['sizes']}")
        many = measure(path, os.path.join(folder, "beam"), beam)
        print(f"Beam DirectRunner, {args.workers} procs: {many['seconds']:6.1f} s  "
              f"{args.rows / many['seconds']:9,.0f} rows/s  {many['sizes']}")
        assert one["sizes"] == many["sizes"], "the two builds differ"
        print(f"Beam / single process: {many['seconds'] / one['seconds']:.2f}x; "
              f"load average after: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
