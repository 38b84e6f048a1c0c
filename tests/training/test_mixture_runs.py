"""Mixtures of sources through the whole path: a run that trains on two disjointly labelled
parts of multi_mnist, exports and answers every task over REST as in-process; per-source
labels and evaluation; resume that continues the sampler; the errors of bad sources (exit 2)."""

import json
import os

import numpy as np
import pytest

import export
import models
import train
from tests.data.helpers import split_size, write_csv
from tests.helpers import http_json, serve_subprocess

# multi_mnist split into two sources: `left` labelled on 256 images, `right` and `same_digit`
# on 512 others (disjoint slices of the training split).
SOURCES = ("data.sources=[{name: lefts, dataset: multi_mnist, tasks: [left], split: 'train[:256]'},"
           " {name: rights, dataset: multi_mnist, tasks: [right, same_digit],"
           " split: 'train[256:768]'}]")
BASE = [SOURCES, "data.max_eval_examples=128", "train.epochs=2", "train.batch_size=32",
        "train.diagnostics_per_epoch=0", "train.affinity_per_epoch=0"]


def run(tmp_path, data_dir, name, extra=(), resume=False):
    args = ["--config", "configs/tiny.yaml", "--output", str(tmp_path / name)]
    for s in BASE + [f"data.data_dir={data_dir}"] + list(extra):
        args += ["--set", s]
    return train.main(args + (["--resume"] if resume else []))


def read(tmp_path, name, file):
    with open(tmp_path / name / file) as f:
        return json.load(f)


def test_a_mixture_trains_exports_and_serves_every_task(tmp_path, multi_mnist_dir, capsys):
    assert run(tmp_path, multi_mnist_dir, "mix", ["data.sampling={strategy: uniform}"]) == 0
    out = capsys.readouterr().out
    assert "source lefts: left 256/256 training examples" in out
    assert "source rights: right 512/512 training examples, same_digit 512/512" in out
    metrics = read(tmp_path, "mix", "metrics.json")
    assert metrics["left"]["sources"] == ["lefts"]
    assert metrics["right"]["sources"] == ["rights"]
    # Both sources read multi_mnist's test split: one shared copy, every task labelled on it.
    assert metrics["left"]["labelled"] == metrics["right"]["labelled"] == 128
    history = read(tmp_path, "mix", "history.json")
    for epoch in history:  # uniform: half of the examples from each source
        assert epoch["sampling"]["lefts"] == pytest.approx(0.5, abs=0.05)
    from reporting.run_report import write_run_report
    page = open(write_run_report(str(tmp_path / "mix"))).read()
    assert "drawn from each source (strategy uniform, batches mixed)" in page
    assert "lefts: multi_mnist train[:256]" in page
    assert os.path.exists(tmp_path / "mix" / "report" / "sampling.png")
    assert export.main(["--run", str(tmp_path / "mix"), "--export_base",
                        str(tmp_path / "exported")]) == 0
    model = models.load_model(str(tmp_path / "mix" / "best.keras"))
    images = np.random.default_rng(0).integers(0, 256, (3, 28, 28, 1)).astype("uint8")
    expected = model.predict({"image": images}, verbose=0)
    with serve_subprocess("mix", str(tmp_path / "exported"), str(tmp_path / "log")) as (url, _):
        status, body = http_json("POST", url + ":predict",
                                 {"inputs": {"image": images.tolist()}})
    assert status == 200, body
    for task in ("left", "right", "same_digit"):
        np.testing.assert_allclose(np.reshape(body["outputs"][task], np.shape(expected[task])),
                                   expected[task], atol=1e-5)


def test_resume_continues_the_sampler(tmp_path, multi_mnist_dir):
    extra = ["data.sampling={strategy: temperature, temperature: 3.0}"]
    assert run(tmp_path, multi_mnist_dir, "whole", extra) == 0
    assert run(tmp_path, multi_mnist_dir, "split", extra + ["train.epochs=1"]) == 0
    assert run(tmp_path, multi_mnist_dir, "split", extra, resume=True) == 0
    whole, split = read(tmp_path, "whole", "history.json"), read(tmp_path, "split", "history.json")
    assert [h["sampling"] for h in whole] == [h["sampling"] for h in split]
    a = models.load_model(str(tmp_path / "whole" / "best.keras")).get_weights()
    b = models.load_model(str(tmp_path / "split" / "best.keras")).get_weights()
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, atol=1e-5)


def test_baselines_train_each_task_on_its_own_sources(tmp_path, multi_mnist_dir, capsys):
    assert run(tmp_path, multi_mnist_dir, "base", ["train.epochs=1", "data.tasks=[left, right]"]
               ) == 0
    from training.baselines import baseline_config
    from training.config import load_config
    from training.experiment import Experiment
    config = load_config(str(tmp_path / "base" / "config.yaml"))
    single = Experiment(baseline_config(config, "left"))
    assert [s.name for s in single.mixture.sources] == ["lefts"]
    assert [t.name for t in single.tasks] == ["left"]


@pytest.mark.parametrize("extra, message", [
    (["data.sources=[{dataset: multi_mnist, tasks: [digit]}]"],
     "data.sources[0].tasks: 'multi_mnist' has no task 'digit'; its tasks are: left, right, "
     "same_digit"),
    (["data.sources=[{dataset: multi_mnist}, {dataset: mmoe_synthetic}]"],
     "data.sources: sources 'multi_mnist' and 'mmoe_synthetic' give different inputs"),
    (["data.tasks=[left, digit]"], "unknown task(s) ['digit']"),
    (["data.sampling={strategy: temperature, temperature: -1}"],
     "data.sampling.temperature: -1.0 is out of range; valid: a number > 0"),
    (["data.sampling={strategy: weights, weights: {lefts: 1}}"],
     "data.sampling.weights: weights sampling needs a weight for every source; missing: "
     "['rights']"),
    (["data.sampling={strategy: weights, weights: {lefts: 1, rights: -2}}"],
     "data.sampling.weights.rights: -2.0 is out of range; valid: a mapping to numbers >= 0"),
    (["data.sampling={batches: per_source}", "train.weighting=pcgrad"],
     "data.sampling.batches: per_source batches hold one source's tasks"),
    (["data.sources=[{dataset: nope}]"], "data.sources[0].dataset: unknown dataset 'nope'; "
                                         "known datasets: "),
    (["data.sources=[{dataset: multi_mnist, tasks: [left], split: 'train[:0]'},"
      " {dataset: multi_mnist, name: b, tasks: [right]}]"],
     "data.sources[0].split: 'train[:0]' holds no examples of 'multi_mnist'"),
    (["data.sources=[{dataset: multi_mnist, tasks: [left], split: 'trian[:9]'},"
      " {dataset: multi_mnist, name: b, tasks: [right]}]"],
     "data.sources[0].split: 'trian[:9]' is not a slice of the training split of "
     "'multi_mnist': 'trian[:9]' names split 'trian'; valid: train (all of the dataset's "
     "training split) or a slice of it: train[:500], train[500:], train[:10%]"),
    # A source reads its dataset's training split only: never its test examples...
    (["data.sources=[{dataset: multi_mnist, tasks: [left], split: test},"
      " {dataset: multi_mnist, name: b, tasks: [right]}]"],
     "data.sources[0].split: 'test' is not a slice of the training split of 'multi_mnist': "
     "'test' names split 'test'; valid: train"),
    # ... nor past its end.
    (["data.sources=[{dataset: multi_mnist, tasks: [left]},"
      " {dataset: multi_mnist, name: b, tasks: [right], split: 'train[:1000000]'}]"],
     "data.sources[1].split: 'train[:1000000]' is not a slice of the training split of "
     "'multi_mnist': 'train[:1000000]' does not fit the training split's"),
])
def test_bad_sources_exit_2_naming_the_key(tmp_path, multi_mnist_dir, capsys, extra, message):
    assert run(tmp_path, multi_mnist_dir, "bad", extra) == 2
    err = capsys.readouterr().err
    assert "config error: " in err and message in err, err


def test_build_data_builds_every_source_and_refuses_beam_naming_one(multi_mnist_dir, capsys):
    import build_data

    args = ["--config", "configs/tiny.yaml", "--set", SOURCES,
            "--set", f"data.data_dir={multi_mnist_dir}"]
    assert build_data.main(args) == 0
    out = capsys.readouterr().out
    assert out.count(f"dataset multi_mnist in {multi_mnist_dir}") == 2, out
    assert build_data.main(args + ["--beam_pipeline_options", ""]) == 2
    assert ("config error: --beam_pipeline_options: dataset 'multi_mnist' builds in one "
            "process only") in capsys.readouterr().err
    bad = SOURCES.replace("train[:256]", "trian[:9]")
    assert build_data.main(args[:3] + [bad] + args[4:]) == 2
    assert "data.sources[0].split: 'trian[:9]' is not a slice" in capsys.readouterr().err

def test_a_study_takes_the_sampling_strategy_as_an_axis(tmp_path, multi_mnist_dir):
    import study

    base = tmp_path / "base.yaml"
    base.write_text(f"""\
data:
  sources:
    - {{name: lefts, dataset: multi_mnist, tasks: [left], split: 'train[:128]'}}
    - {{name: rights, dataset: multi_mnist, tasks: [right], split: 'train[128:512]'}}
  data_dir: {multi_mnist_dir}
  max_eval_examples: 64
model: {{encoder_args: {{filters: [4], units: 8}}, args: {{tower_units: [4]}}}}
train: {{epochs: 1, batch_size: 32, diagnostics_per_epoch: 0, affinity_per_epoch: 0}}
""")
    path = tmp_path / "study.yaml"
    path.write_text(f"base: {base}\nseeds: 1\ngrid:\n"
                    "  data.sampling.strategy: [proportional, uniform]\n")
    assert study.main(["--config", str(path), "--output", str(tmp_path / "out"),
                       "--jobs", "0"]) == 0
    with open(tmp_path / "out" / "study.json") as f:
        content = json.load(f)
    assert content["sources"] == {"left": ["lefts (multi_mnist train[:128])"],
                                  "right": ["rights (multi_mnist train[128:512])"]}
    cells = {r["cell"]: r for r in content["runs"] if r["group"] == "cell"}
    shares = {c: read(tmp_path / "out", r["run_dir"], "history.json")[0]["sampling"]["lefts"]
              for c, r in cells.items()}
    assert shares["proportional"] == pytest.approx(0.25, abs=0.05)
    assert shares["uniform"] == pytest.approx(0.5, abs=0.05)
    # One single-task model per task: the strategy does not change a task's own sources.
    assert sum(r["group"] == "single_task" for r in content["runs"]) == 2
    single = {r["cell"]: r for r in content["runs"] if r["group"] == "single_task"}
    assert read(tmp_path / "out", single["left"]["run_dir"], "metrics.json")["left"][
        "sources"] == ["lefts"]


def test_tagging_tasks_from_two_sources_share_batches(tmp_path):
    """Token tasks in a mixed batch: the examples of one source carry no tags of the other's
    task, so each token task's labels are padded to the sentences inside the kind."""
    options = "{path: tests/data/fixtures/conll2000, min_count: 1, embedding_dim: 16}"
    sources = (f"data.sources=[{{name: chunks, dataset: conll2000, options: {options}, "
               f"tasks: [chunk], split: 'train[:4]'}}, {{name: tags, dataset: conll2000, "
               f"options: {options}, tasks: [pos], split: 'train[4:]'}}]")
    args = ["--config", "configs/conll2000_tiny.yaml", "--output", str(tmp_path / "run")]
    for s in ["data.name=multi_mnist", "data.options={}", sources, "train.epochs=1",
              f"data.data_dir={tmp_path / 'tfds'}", "data.sampling={strategy: uniform}"]:
        args += ["--set", s]
    assert train.main(args) == 0
    metrics = read(tmp_path, "run", "metrics.json")
    assert metrics["chunk"]["sources"] == ["chunks"] and 0 <= metrics["chunk"]["f1"] <= 1


DIAGNOSTICS = ["train.diagnostics_per_epoch=4", "train.affinity_per_epoch=2"]


@pytest.mark.parametrize("extra", [
    ["train.weighting=pcgrad", "data.sampling={batches: mixed}"],
    ["train.weighting=pcgrad", "data.sampling={batches: round}"],
    ["data.auxiliary_tasks=[same_digit]"],
    DIAGNOSTICS,
    DIAGNOSTICS + ["data.sampling={batches: per_source}"],
    ["model.architecture=mmoe",
     "model.args={num_experts: 2, expert_units: [8], tower_units: [4]}"],
], ids=["pcgrad-mixed", "pcgrad-round", "auxiliary", "diagnostics-mixed",
        "diagnostics-per_source", "mmoe"])
def test_methods_auxiliary_tasks_diagnostics_and_moe_train_on_a_mixture(tmp_path, multi_mnist_dir,
                                                                        extra):
    """Requirement 5 of issue 19: what works on one dataset works on a mixture, each task's
    figures finite and named by its source."""
    assert run(tmp_path, multi_mnist_dir, "run", ["train.epochs=1"] + extra) == 0
    metrics = read(tmp_path, "run", "metrics.json")
    sources = {"left": ["lefts"], "right": ["rights"], "same_digit": ["rights"]}
    for task, named in sources.items():
        assert metrics[task]["sources"] == named
        assert all(np.isfinite(v) for k, v in metrics[task].items()
                   if isinstance(v, float)), metrics[task]
    history = read(tmp_path, "run", "history.json")
    assert all(np.isfinite(history[-1]["train"][t]["loss"]) for t in sources)
    if "data.sampling={batches: round}" in extra:  # a batch of each source every step
        assert history[0]["sampling"] == {"lefts": 0.5, "rights": 0.5}
    if "data.auxiliary_tasks=[same_digit]" in extra:
        model = models.load_model(str(tmp_path / "run" / "best.keras"))
        assert [t.name for t in model.tasks if t.auxiliary] == ["same_digit"]
    if extra[:2] != DIAGNOSTICS:
        return
    diagnostics = history[0]["diagnostics"]
    assert diagnostics["tasks"] == ["left", "right", "same_digit"]
    assert len(diagnostics["gradient_samples"]) == 4 and len(diagnostics["affinity_samples"]) == 2
    for key in ("gradient_cosine", "conflict_fraction", "affinity"):
        assert np.all(np.isfinite(diagnostics[key])), (key, diagnostics[key])
    for sample in diagnostics["affinity_samples"]:
        z = np.array(sample["affinity"])
        # A relative change of 1 would mean a loss driven to exactly 0 by one step: what a
        # task with no labelled example in the batch (loss 0 before and after) must not show.
        assert np.all(z < 1), z
        if "per_source" in extra[-1]:  # one source per step: the other's tasks unchanged
            absent = [j for j in range(3) if np.all(z[:, j] == 0) and np.all(z[j] == 0)]
            assert absent in ([0], [1, 2]), z


# Two small tables of one log's features (`x1` numeric, `color` categorical): a CSV file set
# labelled for `click`, a JSON Lines table labelled for `buy` (whose `click` column, when
# present, is empty in every row).
TABLE_MODEL = {"encoder": "mlp", "encoder_args": {"units": [8]}, "args": {"tower_units": [4]}}


def write_tables(tmp_path, rows=48, with_click=False):
    """(csv path, jsonl path) of `rows` rows each."""
    rng = np.random.default_rng(0)

    def row():
        x = round(float(rng.normal()), 3)
        return x, str(rng.choice(["red", "green", "blue"])), "yes" if x > 0 else "no"
    csv_path = write_csv(tmp_path / "clicks.csv", ["x1", "color", "click"],
                         [row() for _ in range(rows)])
    records = [dict(zip(["x1", "color", "buy"], row())) for _ in range(rows)]
    if with_click:
        records = [dict(r, click=None) for r in records]
    jsonl = tmp_path / "buys.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in records))
    return csv_path, str(jsonl)


def table_run(tmp_path, sources):
    """train.py on a mixture of `sources` (data.sources entries) in its own data_dir."""
    config = {"data": {"sources": sources, "data_dir": str(tmp_path / "tfds")},
              "model": TABLE_MODEL, "train": {"epochs": 1, "batch_size": 16}}
    path = tmp_path / "config.yaml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return train.main(["--config", str(path), "--output", str(tmp_path / "run")])


def table_source(name, dataset, path, labels, tmp_path, tasks=None):
    options = {"train": path, "labels": labels, "split": {"validation": 0.25, "test": 0.25},
               "data_dir": str(tmp_path / "tfds")}
    return {"name": name, "dataset": dataset, "options": options,
            **({"tasks": tasks} if tasks else {})}


def test_a_csv_file_set_and_a_table_are_sources_of_one_mixture(tmp_path, capsys):
    import data

    clicks, buys = write_tables(tmp_path)
    sources = [table_source("clicks", "csv", clicks, {"click": "binary"}, tmp_path),
               table_source("buys", "table", buys, {"buy": "binary"}, tmp_path)]
    assert table_run(tmp_path, sources) == 0
    out = capsys.readouterr().out
    metrics = read(tmp_path, "run", "metrics.json")
    own = {s["name"]: {split: split_size(data.get_dataset(s["dataset"], **s["options"]), split,
                                         str(tmp_path / "tfds")) for split in ("train", "test")}
           for s in sources}
    for task, source in (("click", "clicks"), ("buy", "buys")):
        n = own[source]
        assert f"source {source}: {task} {n['train']}/{n['train']} training examples" in out
        assert metrics[task]["sources"] == [source]
        # Each task on its own table's test rows, masked on the other's.
        assert metrics[task]["labelled"] == n["test"] > 0
        assert metrics[task]["label_counts"]["test"] == {
            "labelled": n["test"], "examples": own["clicks"]["test"] + own["buys"]["test"]}
        assert np.isfinite(metrics[task]["loss"]) and 0 <= metrics[task]["auc"] <= 1


def test_a_source_without_a_label_of_a_task_it_claims_exits_2_naming_it(tmp_path, capsys):
    """`buys` claims `click`, a column it declares (classes given) but never fills."""
    clicks, buys = write_tables(tmp_path, with_click=True)
    labels = {"buy": "binary", "click": {"kind": "binary", "classes": ["no", "yes"]}}
    assert table_run(tmp_path, [
        table_source("clicks", "csv", clicks, {"click": "binary"}, tmp_path),
        table_source("buys", "table", buys, labels, tmp_path, tasks=["buy", "click"])]) == 2
    err = capsys.readouterr().err
    assert ("config error: data.sources[1].tasks: source 'buys' has no labelled training "
            "example of task(s) ['click'] (split 'train'); valid: tasks it labels") in err, err
