"""The MMoE paper's protocol (training/protocols/mmoe_paper): the study file's errors,
a tiny study end to end (resume, study.json, paired data) and the claims' verdicts."""

import json
import os

import numpy as np
import pytest

import study
from training.protocols.mmoe_paper.claims import check_claims
from training.protocols.mmoe_paper.runner import chunk_data, main_chunks
from training.protocols.mmoe_paper.spec import ProtocolSpec
from training.replicas.data import epoch_orders

TINY = os.path.join(os.path.dirname(__file__), "mmoe_paper_tiny.yaml")


def bad_file(tmp_path, old, new):
    text = open(TINY).read()
    assert old in text
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace(old, new))
    return str(path)


@pytest.mark.parametrize("old, new, key", [
    ("runs: 3", "runs: 0", "runs:"),
    ("steps: 30", "steps: ten", "steps:"),
    ("learning_rates: [0.001, 0.01]", "learning_rates: [0.001, -0.01]", "learning_rates:"),
    ("correlations: [0.5, 1.0]", "correlations: [0.5]", "correlations:"),
    ("correlations: [0.5, 1.0]", "correlations: [0.5, 2.0]", "models.shared_bottom"),
    ("  omoe: {", "  other: {", "models:"),
    ("record_every: 10", "record_every: 10\nepochs: 3", "unknown key(s) ['epochs']"),
    ("protocol: mmoe_paper", "protocol: mmoe_papers", "protocol: unknown 'mmoe_papers'"),
])
def test_a_bad_protocol_file_exits_2_naming_the_key(tmp_path, capsys, old, new, key):
    path = bad_file(tmp_path, old, new)
    assert study.main(["--config", path, "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("config error:") and key in err, err
    assert not os.path.exists(tmp_path / "out" / "chunks")


@pytest.mark.parametrize("flags", [["--set", "train.epochs=2"], ["--plan"]])
def test_flags_a_protocol_does_not_take_exit_2(tmp_path, capsys, flags):
    assert study.main(["--config", TINY, "--output", str(tmp_path / "out")] + flags) == 2
    err = capsys.readouterr().err
    assert err.startswith("config error: ") and flags[0] in err, err
    assert not os.path.exists(tmp_path / "out")


def test_the_tiny_study_runs_stops_on_its_budget_and_resumes_without_redoing(protocol_study):
    _, out, calls = protocol_study
    (first, _, after_first), (second, lines, after_second), (third, again, after_third) = calls
    assert first == 3 and len(after_first) == 1        # one chunk, then the budget stopped it
    assert second == 0 and len(after_second) == 6       # 3 pilot + 3 main chunks
    assert all(after_second[p] == t for p, t in after_first.items())   # not redone
    assert "pilot: 1 of 3 chunks done" in lines
    assert third == 0 and after_third == after_second
    assert again[:2] == ["pilot: 3 of 3 chunks done", "main: 3 of 3 chunks done"]


def test_study_json_holds_curves_finals_floor_claims_and_the_pilot(protocol_study):
    _, out, _ = protocol_study
    content = json.load(open(os.path.join(out, "study.json")))
    assert content["runs_done"] == 3 and content["protocol"] == "mmoe_paper"
    entry = content["sines"]["normal"]
    curve = entry["curves"]["mmoe"]["0.5"]
    assert curve["steps"] == [0, 10, 20, 30] and len(curve["train"]["mean"]) == 3
    assert all(lo <= m <= hi for lo, m, hi in zip(*(curve["validation"][k]
                                                   for k in ("low", "mean", "high"))))
    final = entry["final"]["shared_bottom"]["1"]
    assert final["seeds"] == [0, 1, 2] and len(final["runs"]) == 3
    assert np.isclose(final["mean"], np.mean(final["runs"]))
    assert set(entry["claims"]) == {"i", "ii", "iii", "iv"}
    assert 0 < entry["floor"]["0.5"]["mean"] < entry["label_variance"]["0.5"]["mean"]
    pilot = content["pilot"]["normal"]["omoe"]["0.5"]
    assert pilot["chosen"] in (0.001, 0.01) and set(pilot["rates"]) == {"0.001", "0.01"}


def test_run_r_of_every_model_reads_the_same_data(protocol_study):
    """Paired: the same u1, u2, inputs and noise (and order) for every model at seed r;
    other data at another seed."""
    spec = ProtocolSpec.read(TINY)
    rates = {"normal": {m: {"0.5": 0.01, "1": 0.01} for m in spec.models}}
    chunks = {c.model: c for c in main_chunks(spec, rates)}
    data = {m: chunk_data(spec, c)[1]["train"] for m, c in chunks.items()}
    first = data["shared_bottom"]
    for model in ("omoe", "mmoe"):
        for part in ("inputs", "labels"):
            for key, value in getattr(first, part).items():
                np.testing.assert_array_equal(value, getattr(data[model], part)[key])
    x = first.inputs["x"]
    assert not np.array_equal(x[0], x[1])              # seeds 0 and 1 of p = 0.5
    # The chunks store each run's linear-fit floor: equal across models (same data).
    _, out, _ = protocol_study
    floors = [np.load(os.path.join(out, c.path))["floor"] for c in chunks.values()]
    assert all(np.array_equal(floors[0], f) for f in floors[1:])
    seeds = [s for _, _, s in chunks["mmoe"].replicas]
    assert seeds == [s for _, _, s in chunks["omoe"].replicas]
    assert epoch_orders(first.size, seeds, 0, 10000).shape == (len(seeds), first.size)


def claims_of(shared_bottom_shift):
    rng = np.random.default_rng(0)
    base, noisy = rng.normal(1.0, 0.01, 60), rng.normal(0.2, 0.05, 60)
    return check_claims({m: {0.5: base + 0.3 + s, 0.9: base + 0.1 + s, 1.0: base + s}
                         for m, s in (("shared_bottom", shared_bottom_shift * noisy),
                                      ("omoe", 0.0), ("mmoe", 0.0))})


def test_claim_iii_is_contradicted_when_the_shared_bottom_is_better():
    verdicts = claims_of(-1.0)       # the shared bottom 0.2 lower at every correlation
    assert verdicts["iii"]["verdict"] == "contradicted"
    assert all(p["contradicted"] for p in verdicts["iii"]["parts"])
    assert claims_of(1.0)["iii"]["verdict"] == "reproduced"


def test_claim_ii_is_contradicted_when_mmoe_has_the_largest_gap():
    rng = np.random.default_rng(1)
    base = rng.normal(1.0, 0.01, 60)
    losses = {m: {0.5: base + gap, 1.0: base} for m, gap in
              (("shared_bottom", 0.1), ("omoe", 0.1), ("mmoe", 0.4))}
    verdict = check_claims(losses)["ii"]
    assert verdict["verdict"] == "contradicted" and len(verdict["parts"]) == 2
