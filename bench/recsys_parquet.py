"""Ids at recommender scale: a 2,000,000-row Parquet log analysed, built, exported and trained.

The log is generated into a temporary folder (not the repo), shaped like a recommender log:
`user_id` and `item_id` (int64 ids of about 1,000,000 distinct values each), `clicked_items`
(a list of 0-50 recent item ids, 25 on average), four dense features, three small
categorical ones (`device`, `country`, `hour`) and two labels (`click`, `conversion`).
Then, each in a fresh process (so its peak memory is its own):

1. analysis + build (`data.name: table`) of the first N rows, for N = 500,000 and the whole
   2,000,000: seconds per million rows (goal <= 20 s) and peak memory (goal <= 2 GB, flat
   in N); `user_id` and `item_id` have more than `hash_threshold` distinct values, so they
   are hashed into `hash_buckets` rows, `item_id` and `clicked_items` sharing one table;
2. the exported SavedModel's size for both N (bounded by the buckets, not by the ids) and,
   for scale, what the two id tables would weigh as full vocabularies;
3. the train step time (shared-bottom MLP, batch 1,024) with the list column and without.

Run (holds the shared lock: several minutes on 2 cores):
      flock /work/wt/train.lock .venv/bin/python bench/recsys_parquet.py
      .venv/bin/python bench/recsys_parquet.py --rows 200000 --sizes 100000 200000  # quicker
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

IDS = 1_200_000  # drawn uniformly: 2M draws give about 1M distinct ids
LABELS = {"click": "binary", "conversion": "binary"}
BUCKETS = 100_000


def generate(path, rows, seed=0, chunk=250_000):
    """Writes the Parquet log in row groups of `chunk` rows."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    writer = None
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        lengths = rng.integers(0, 51, n)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
        dense = rng.normal(size=(n, 4)).astype(np.float32)
        score = dense[:, 0] + 0.02 * lengths - 0.5 + rng.normal(size=n)
        click = score > 0
        table = pa.table({
            "user_id": rng.integers(0, IDS, n), "item_id": rng.integers(0, IDS, n),
            "clicked_items": pa.ListArray.from_arrays(
                offsets, pa.array(rng.integers(0, IDS, int(offsets[-1])))),
            **{f"dense_{i}": dense[:, i] for i in range(4)},
            "device": rng.choice(np.array(["ios", "android", "web"]), n),
            "country": rng.choice(np.array([f"c{i:02d}" for i in range(50)]), n),
            "hour": rng.integers(0, 24, n),
            "click": np.where(click, "yes", "no"),
            "conversion": np.where(click & (dense[:, 1] + rng.normal(size=n) > 1), "yes", "no")})
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    writer.close()


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def options(path, data_dir, with_list=True):
    feature_options = {"item_id": {"shared_embedding": "items", "embedding_dim": 16},
                       "hour": {"treatment": "vocabulary"}}
    if with_list:
        feature_options["clicked_items"] = {"shared_embedding": "items", "embedding_dim": 16}
    return dict(train=path, labels=LABELS, hash_buckets=BUCKETS, data_dir=data_dir,
                feature_types={"user_id": "categorical", "item_id": "categorical"},
                feature_options=feature_options, split={"validation": 0.05, "test": 0.05},
                exclude=None if with_list else ["clicked_items"])


def ingest(path, rows, data_dir, out):
    """Analysis and build of one file, then the exported model's size; figures to `out`."""
    from data import pipeline
    from data.csv_dataset import csv_dataset

    base_mb = peak_mb()
    start = time.perf_counter()
    spec = csv_dataset(**options(path, data_dir))
    analysis = time.perf_counter() - start
    print(spec.builder_kwargs["config"].schema.format())
    start = time.perf_counter()
    pipeline.prepare(spec, data_dir)
    build = time.perf_counter() - start
    per_million = (analysis + build) * 1e6 / rows
    print(f"{rows:,} rows: analysis {analysis:.1f} s, build {build:.1f} s: {per_million:.1f} s "
          f"per million rows (goal <= 20 s); peak memory {peak_mb():,.0f} MB (goal <= 2048 MB; "
          f"{base_mb:,.0f} MB after importing TensorFlow)")
    figures = {"rows": rows, "analysis_s": analysis, "build_s": build,
               "per_million_s": per_million, "peak_mb": peak_mb()}
    figures.update(export_size(spec, os.path.join(data_dir, "exported")))
    with open(out, "w") as f:
        json.dump(figures, f)


def make_model(spec):
    import models
    return models.MultiTaskModel(
        tasks=[t.to_config() for t in spec.tasks], inputs=[i.to_config() for i in spec.inputs],
        architecture="shared_bottom", encoder="mlp", encoder_args={"units": [128, 64]},
        args={"tower_units": [32]})


def export_size(spec, base):
    """The exported SavedModel's size, and the id tables' share of it."""
    from models.export import export_saved_model

    model = make_model(spec)
    folder = export_saved_model(model, base)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(folder)
               for f in files)
    tables = sum(w.numpy().nbytes for w in model.weights if "embed" in w.path)
    print(f"exported model: {size / 1e6:.1f} MB on disk, of which id embedding tables "
          f"{tables / 1e6:.1f} MB ({model.count_params():,} parameters; hashing into "
          f"{BUCKETS:,} buckets x 16 for items and users)")
    return {"export_mb": size / 1e6, "tables_mb": tables / 1e6, "params": model.count_params()}


def step_time(path, data_dir, rows, out):
    """Train step time with and without the list column (batch 1,024, after warm-up)."""
    import keras
    import numpy as np

    from data import pipeline
    from data.csv_dataset import csv_dataset
    from training.testing import train_config
    from training.trainer import Trainer

    figures = {}
    for with_list in (True, False):
        spec = csv_dataset(**options(path, data_dir, with_list))
        batches = iter(pipeline.load_split(spec, "train", spec.tasks, data_dir, 1024,
                                           shuffle_seed=0, take=40 * 1024, cache=False))
        model = make_model(spec)
        trainer = Trainer(model, spec.tasks, train_config(), verbose=0,
                          optimizer=keras.optimizers.Adam(1e-3))
        batch = [next(batches) for _ in range(25)]
        for b in batch[:5]:
            trainer.train_step(b)
        times = []
        for b in batch[5:]:
            start = time.perf_counter()
            float(trainer.train_step(b)[0])
            times.append(time.perf_counter() - start)
        name = "with clicked_items" if with_list else "without clicked_items"
        figures[name] = 1000 * float(np.median(times))
        print(f"train step {name}: {figures[name]:.1f} ms (median of 20, batch 1,024)")
    with open(out, "w") as f:
        json.dump(figures, f)


def run(*args):
    subprocess.run([sys.executable, os.path.abspath(__file__), *map(str, args)], check=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=2_000_000)
    p.add_argument("--sizes", type=int, nargs="+", default=[500_000, 2_000_000])
    p.add_argument("--keep", help="folder to keep the files in (default: temporary, removed)")
    p.add_argument("--ingest", nargs=4, help=argparse.SUPPRESS)
    p.add_argument("--steps", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.ingest:
        return ingest(args.ingest[0], int(args.ingest[1]), args.ingest[2], args.ingest[3])
    if args.steps:
        return step_time(args.steps[0], args.steps[1], int(args.steps[2]), args.steps[3])
    folder = args.keep or tempfile.mkdtemp(prefix="recsys_")
    os.makedirs(folder, exist_ok=True)
    try:
        figures = []
        for rows in args.sizes:
            path = os.path.join(folder, f"log-{rows}.parquet")
            start = time.perf_counter()
            generate(path, rows)
            print(f"generated {rows:,} rows: {os.path.getsize(path) / 1e6:.0f} MB Parquet in "
                  f"{time.perf_counter() - start:.0f} s")
            out = os.path.join(folder, f"figures-{rows}.json")
            run("--ingest", path, rows, os.path.join(folder, f"tfds-{rows}"), out)
            with open(out) as f:
                figures.append(json.load(f))
        largest = os.path.join(folder, f"log-{args.sizes[-1]}.parquet")
        out = os.path.join(folder, "steps.json")
        run("--steps", largest, os.path.join(folder, f"tfds-{args.sizes[-1]}"),
            args.sizes[-1], out)
        print("\nsummary:")
        for f in figures:
            print(f"  {f['rows']:>9,} rows: {f['per_million_s']:.1f} s per million rows "
                  f"(analysis {f['analysis_s']:.1f} s + build {f['build_s']:.1f} s), peak "
                  f"{f['peak_mb']:,.0f} MB, exported model {f['export_mb']:.1f} MB")
        with open(out) as f:
            print(f"  train step: {json.load(f)}")
        full = 2 * 1_000_000 * 16 * 4 / 1e6
        print(f"  for scale: full vocabularies of ~1M users and ~1M items at 16 wide would be "
              f"~{full:.0f} MB of tables alone, growing with the ids")
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
