"""CSV ingest speed and memory: schema analysis and TFDS build of a 1,000,000-row x 40-column
gzip CSV (mixed types, 5% missing cells), as `data.name: csv` does them.

The file is generated into a temporary folder (not the repo): 26 float columns, 6 integer
columns (4 of them low-cardinality codes), 4 text columns (5 to 2,000 values, a space
before each cell as in census files), and 4 labels (binary, multiclass, regression,
multilabel); 5% of the cells are empty or `?`. Then, in a fresh process (so its peak memory
is the ingest's alone), it times `data.csv_schema.analyze` and the builder's
`download_and_prepare`, and prints rows/s and the peak resident memory after each.
Goal (issue 10): the whole million analysed and built in <= 60 s, peak memory <= 2 GB.

Run:  .venv/bin/python bench/csv_ingest.py                 # 1,000,000 rows
      .venv/bin/python bench/csv_ingest.py --rows 100000   # quicker
"""

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

NUMERIC, INTEGER, TEXT = 26, 6, 4
LABELS = {"clicked": "binary", "segment": "multiclass", "spend": "regression",
          "topics": "multilabel"}


def generate(path, rows, seed=0, chunk=250_000):
    """Writes the gzip CSV in chunks (pyarrow's writer); returns the column names."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pa_csv

    rng = np.random.default_rng(seed)
    names = ([f"num_{i}" for i in range(NUMERIC)] + [f"int_{i}" for i in range(INTEGER)]
             + [f"text_{i}" for i in range(TEXT)] + list(LABELS))
    vocab = [np.array([f" value {j:04d}" for j in range(n)]) for n in (5, 50, 500, 2000)]
    topics = np.array(["a", "b", "c", "a|b", "b|c", "a|b|c", "none"])
    with pa.CompressedOutputStream(path, "gzip") as out:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)

            def holes(values):
                """Cells as text (formatted by pyarrow), 2.5% empty and 2.5% "?"."""
                text = pc.cast(pa.array(values), pa.string())
                u = rng.random(n)
                return pc.if_else(pa.array(u < 0.025), "",
                                  pc.if_else(pa.array(u < 0.05), "?", text))

            cols = [holes(np.round(rng.normal(size=n) * (10 ** (i % 4)), 3))
                    for i in range(NUMERIC)]
            cols += [holes(rng.integers(0, (12, 40, 3, 52, 100000, 1000000)[i], n))
                     for i in range(INTEGER)]
            cols += [holes(v[rng.integers(0, len(v), n)]) for v in vocab]
            score = rng.normal(size=n)
            cols += [holes(np.where(score > 0.5, "yes", "no")),
                     holes(np.array(["red", "green", "blue", "black", "white"])[
                         rng.integers(0, 5, n)]),
                     holes(np.round(1000 + 250 * score, 2)),
                     holes(topics[rng.integers(0, len(topics), n)])]
            table = pa.table(dict(zip(names, cols)))
            pa_csv.write_csv(table, out, pa_csv.WriteOptions(include_header=start == 0,
                                                             quoting_style="none"))
    return names


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def ingest(path, rows, data_dir):
    """The measured part, in its own process: analysis, then the build."""
    from data import pipeline
    from data.csv_dataset import csv_dataset
    from data.csv_reader import CsvFile

    options = dict(train=path, labels=LABELS, extra_na_values=["?"],
                   split={"validation": 0.1, "test": 0.1}, data_dir=data_dir)
    print(f"imports done, peak memory {peak_mb():,.0f} MB (TensorFlow and TFDS imported)")
    start = time.perf_counter()
    spec = csv_dataset(**options)  # analyses and caches the schema beside the data
    analysis = time.perf_counter() - start
    config = spec.builder_kwargs["config"]
    print(config.schema.format())
    print(f"analysis: {analysis:.1f} s, {rows / analysis:,.0f} rows/s, "
          f"peak memory {peak_mb():,.0f} MB")

    start = time.perf_counter()
    builder = pipeline.prepare(spec, data_dir)
    build = time.perf_counter() - start
    sizes = {s: i.num_examples for s, i in builder.info.splits.items()}
    print(f"build: {build:.1f} s, {rows / build:,.0f} rows/s {sizes}, "
          f"peak memory {peak_mb():,.0f} MB")
    # What bounds both passes: decompressing and parsing alone.
    start = time.perf_counter()
    total = sum(b.num_rows for _, b in CsvFile.open(path, config.options).blocks())
    read = time.perf_counter() - start
    print(f"decompress + parse alone (one pass, every column as text): {read:.1f} s, "
          f"{total / read:,.0f} rows/s")
    print(f"TOTAL analysis + build: {analysis + build:.1f} s for {rows:,} rows "
          f"(goal <= 60 s); peak memory {peak_mb():,.0f} MB (goal <= 2048 MB)")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--keep", help="folder to keep the file and the build in (default: a "
                                  "temporary folder, removed)")
    p.add_argument("--ingest", nargs=3, metavar=("FILE", "ROWS", "DATA_DIR"),
                   help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.ingest:
        return ingest(args.ingest[0], int(args.ingest[1]), args.ingest[2])
    folder = args.keep or tempfile.mkdtemp(prefix="csv_ingest_")
    os.makedirs(folder, exist_ok=True)
    try:
        path = os.path.join(folder, "bench.csv.gz")
        start = time.perf_counter()
        generate(path, args.rows)
        print(f"generated {args.rows:,} rows x {NUMERIC + INTEGER + TEXT + len(LABELS)} columns: "
              f"{os.path.getsize(path) / 1e6:.0f} MB gzip in {time.perf_counter() - start:.0f} s "
              f"({path})")
        data_dir = os.path.join(folder, "tfds")
        shutil.rmtree(data_dir, ignore_errors=True)
        subprocess.run([sys.executable, os.path.abspath(__file__), "--ingest", path,
                        str(args.rows), data_dir], check=True)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
