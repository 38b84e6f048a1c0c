"""Tables as users have them: JSON Lines and Parquet written by the tests (typed cells, null
cells, list columns, a free-text column), and a CSV with list cells and a declared text
column; ids vocabularied or hashed with a shared table; the bad inputs of issue 20 each
named by file, line/row and column or by the config key; and a raw row served over REST
and gRPC answering as the in-process model."""

import csv
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import tensorflow as tf

import data
from data.csv_options import CsvError
from tests.data.helpers import whole_split
from tests.helpers import http_json, serve_in_process, train_export
from training.config import load_config

WORDS = "good great fine bad awful poor the a movie food service place very really".split()
LABELS = {"click": "binary", "topic": "multiclass", "tags": "multilabel", "spend": "regression"}
SHARED = {"item_id": {"shared_embedding": "items", "embedding_dim": 4},
          "clicked": {"shared_embedding": "items", "embedding_dim": 4}}


def rows(n=160, seed=0):
    """Rows of a small log: ids (a user as text, an item as an integer), a list of clicked
    items, a review, a price with missing cells, a device; four labels of four kinds."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        good = bool(rng.random() < 0.5)
        words = [str(rng.choice(WORDS[:3] if good else WORDS[3:6]))] + \
            [str(w) for w in rng.choice(WORDS[6:], int(rng.integers(3, 7)))]
        out.append({
            "user_id": f"u{int(rng.integers(0, 60))}", "item_id": int(rng.integers(0, 20)),
            "clicked": [int(x) for x in rng.integers(0, 20, int(rng.integers(0, 5)))],
            "review": " ".join(words),
            "price": None if rng.random() < 0.1 else round(float(rng.uniform(1, 50)), 2),
            "device": str(rng.choice(["ios", "android", "web"])),
            "click": "yes" if good else "no", "topic": str(rng.choice(["food", "film", "x"])),
            "tags": "|".join(sorted({str(t) for t in rng.choice(["a", "b", "c"], 2)})),
            "spend": round(float(rng.uniform(0, 100)), 1)})
    return out


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


def write_parquet(path, records):
    pq.write_table(pa.Table.from_pylist(records), str(path), row_group_size=50)
    return str(path)


def table_spec(tmp_path, train, **options):
    return data.get_dataset("table", train=train, labels=LABELS, hash_threshold=30,
                            hash_buckets=64, feature_options=SHARED,
                            data_dir=str(tmp_path / "tfds"), **options)


@pytest.mark.parametrize("write", [write_jsonl, write_parquet])
def test_jsonl_and_parquet_give_ids_lists_text_and_labels(tmp_path, write):
    suffix = "jsonl" if write is write_jsonl else "parquet"
    records = rows()
    spec = table_spec(tmp_path, write(tmp_path / f"log.{suffix}", records))
    kinds = {i.name: i.kind for i in spec.inputs}
    assert kinds == {"user_id": "hashed", "item_id": "categorical", "clicked": "id_list",
                     "review": "text", "price": "numeric", "device": "categorical"}
    by_name = {i.name: i for i in spec.inputs}
    assert by_name["item_id"].vocabulary == by_name["clicked"].vocabulary  # one shared table
    report = {r["column"]: r for r in spec.builder_kwargs["config"].schema.report}
    assert "more than hash_threshold 30 distinct values: hashed" in report["user_id"]["note"]
    assert report["clicked"]["treatment"].startswith("list, mean of its ids' embeddings")
    x, labels, masks = whole_split(spec, "train", str(tmp_path / "tfds"))
    first = records[0]
    assert x["item_id"][0].decode() == str(first["item_id"])  # integer ids read as text
    assert [v.decode() for v in x["clicked"][0] if v] == [str(i) for i in first["clicked"]]
    assert x["review"][0].decode() == first["review"]
    assert np.isnan(x["price"]).any()  # null cells are missing, imputed in the model
    assert set(labels) == set(LABELS) and labels["tags"].shape[1] == 3


def test_a_csv_with_list_cells_and_a_declared_text_column(tmp_path):
    records = rows(60)
    path = tmp_path / "log.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(list(records[0]))
        for r in records:
            writer.writerow([" | ".join(map(str, v)) if isinstance(v, list) else
                             ("" if v is None else v) for v in r.values()])
    spec = data.get_dataset("csv", train=str(path), labels=LABELS, data_dir=str(tmp_path / "t"),
                            feature_types={"clicked": "list", "review": "text"},
                            feature_options={"clicked": {"separator": "|", "pooling": "sum",
                                                         "treatment": "hashing",
                                                         "num_buckets": 32}})
    clicked = next(i for i in spec.inputs if i.name == "clicked")
    assert (clicked.kind, clicked.shape, clicked.separator, clicked.num_buckets) == \
        ("id_list", (), "|", 32)
    x, _, _ = whole_split(spec, "train", str(tmp_path / "t"))
    assert x["clicked"][0].decode() == " | ".join(map(str, records[0]["clicked"]))  # the cell


def test_bad_inputs_name_file_row_column_or_key(tmp_path):
    records = rows(40)
    # A list column holding non-lists (declared list, no separator).
    plain = write_jsonl(tmp_path / "p.jsonl", records)
    with pytest.raises(CsvError, match=r"p.jsonl, line 1, column 'device': a list column holds "
                                       r"non-lists \(such as 'android'\)"):
        data.get_dataset("table", train=plain, labels=LABELS, feature_types={"device": "list"},
                         data_dir=str(tmp_path / "t"))
    # A text column empty in every row.
    empty = write_parquet(tmp_path / "e.parquet", [dict(r, review="") for r in records])
    with pytest.raises(CsvError, match=r"e.parquet, column 'review': no text in the training "
                                       "rows"):
        data.get_dataset("table", train=empty, labels=LABELS, feature_types={"review": "text"},
                         data_dir=str(tmp_path / "t"))
    # Hashing with 0 buckets: the config key.
    with pytest.raises(CsvError, match=r"data.options.feature_options.user_id.num_buckets: 0 is "
                                       r"out of range; valid: an integer >= 1"):
        data.get_dataset("table", train=plain, labels=LABELS,
                         feature_options={"user_id": {"num_buckets": 0}})
    # A number on one line, text on another.
    mixed = write_jsonl(tmp_path / "m.jsonl", records[:5] + [dict(records[5], price="cheap")])
    with pytest.raises(CsvError, match=r"m.jsonl, line 6, column 'price': text where line 1 has "
                                       "a number"):
        data.get_dataset("table", train=mixed, labels=LABELS, data_dir=str(tmp_path / "t"))
    broken = tmp_path / "b.jsonl"
    broken.write_text(json.dumps(records[0]) + "\n{not json\n")
    with pytest.raises(CsvError, match=r"b.jsonl, line 2: not JSON"):
        data.get_dataset("table", train=str(broken), labels=LABELS)
    with pytest.raises(CsvError, match=r"data.options.delimiter: for CSV/TSV files; .*e.parquet "
                                       "is parquet"):
        data.get_dataset("table", train=empty, labels=LABELS, delimiter=";")
    # Shared tables must agree.
    with pytest.raises(CsvError, match=r"shared_embedding items\): embedding_dim differs"):
        data.get_dataset("table", train=plain, labels=LABELS, data_dir=str(tmp_path / "t"),
                         feature_options={**SHARED, "clicked": {"shared_embedding": "items",
                                                                "embedding_dim": 5}})


@pytest.fixture(scope="module")
def served_table(tmp_path_factory):
    """A JSON Lines log trained briefly, exported and served in-process (REST and gRPC)."""
    root = tmp_path_factory.mktemp("table")
    train = write_jsonl(root / "log.jsonl", rows(200))
    tfds_dir = str(root / "tfds")
    config = load_config(None, values={
        "data.name": "table", "data.data_dir": tfds_dir,
        "data.options": {"train": train, "labels": LABELS, "hash_threshold": 30,
                         "hash_buckets": 64, "feature_options": SHARED, "data_dir": tfds_dir},
        "model.architecture": "mmoe", "model.encoder": "mlp",
        "model.encoder_args": {"units": [8]},
        "model.args": {"num_experts": 2, "expert_units": [8], "tower_units": [4]},
        "train.epochs": 1, "train.batch_size": 32, "train.diagnostics_per_epoch": 0,
        "train.affinity_per_epoch": 0})
    _, model, base = train_export(config, str(root), "log")
    with serve_in_process("log", base) as server:
        yield model, server


@pytest.mark.slow
def test_a_raw_row_served_over_rest_and_grpc_answers_as_in_process(served_table):
    from serving.client import GrpcClient
    from tests.models.helpers import assert_served_equal, served_like_keras

    model, server = served_table
    # A raw log row: ids as text, the list as it is (padded with "" beside a longer one),
    # a missing price (NaN), an unseen user and item.
    instances = [{"user_id": "u3", "item_id": "7", "clicked": ["3", "9", "12"],
                  "review": "great movie really", "price": 12.5, "device": "ios"},
                 {"user_id": "never-seen", "item_id": "999", "clicked": ["4", "", ""],
                  "review": "awful", "price": float("nan"), "device": "web"}]
    x = {k: np.array([r[k] for r in instances], dtype=np.float32 if k == "price" else object)
         for k in instances[0]}
    want = served_like_keras(model, model({k: tf.constant(v) for k, v in x.items()}))
    status, body = http_json("POST", f"http://127.0.0.1:{server.rest_port}/v1/models/log:predict",
                             {"instances": instances})
    assert status == 200, body
    rest = {k: np.array([row[k] for row in body["predictions"]]) for k in body["predictions"][0]}
    assert_served_equal(rest, want, rtol=1e-4, atol=1e-5)
    grpc = GrpcClient("127.0.0.1", server.grpc_port)
    try:
        got = grpc.predict("log", {k: tf.constant(v) for k, v in x.items()})
    finally:
        grpc.close()
    assert_served_equal({k: np.asarray(v) for k, v in got.items()}, want, rtol=1e-4, atol=1e-5)
