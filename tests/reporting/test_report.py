"""report.py: the HTML reports of a run and of a study, opened in headless Chromium."""

import os
import shutil
import subprocess

import numpy as np
import pytest

import report as report_cli

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def chromium():
    """Debian's chromium, installed here when missing (the test's own setup)."""
    path = shutil.which("chromium")
    if path is None:
        subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], check=False,
                       capture_output=True, timeout=900,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        path = shutil.which("chromium")
    assert path, "chromium is not installed and `apt-get install -y chromium` failed"
    return path


def open_in_browser(chromium, html, tmp_path):
    """(screenshot as an array, the DOM after load) of `html` in headless Chromium."""
    from PIL import Image

    flags = CHROMIUM_FLAGS + [f"--user-data-dir={tmp_path / 'profile'}"]
    url = f"file://{os.path.abspath(html)}"
    shot = tmp_path / "shot.png"
    subprocess.run([chromium] + flags + [f"--screenshot={shot}", "--window-size=1300,2400", url],
                   check=True, capture_output=True, timeout=120)
    dom = subprocess.run([chromium] + flags + ["--dump-dom", url], check=True,
                         capture_output=True, text=True, timeout=120).stdout
    return np.asarray(Image.open(shot).convert("L"), np.float64), dom


def check_page(chromium, html, tmp_path, min_images):
    pixels, dom = open_in_browser(chromium, html, tmp_path)
    assert pixels.std() > 20, "the screenshot is blank"
    assert (pixels < 128).mean() > 0.01, "next to nothing drawn"
    loaded = dom.split('data-images-loaded="', 1)[1].split('"', 1)[0]
    ok, total = map(int, loaded.split("/"))
    assert total >= min_images and ok == total, f"images loaded: {loaded}"
    assert "http://" not in dom.replace("http://www.w3.org", "") and "https://" not in dom


def test_run_report_renders_every_figure(small_study, chromium, tmp_path, capsys):
    _, out, _ = small_study
    run = os.path.join(out, "runs", "mmoe-equal", "seed0")
    assert report_cli.main(["--run", run]) == 0
    html = os.path.join(run, "report", "index.html")
    assert f"wrote {os.path.abspath(html)}" in capsys.readouterr().out
    files = set(os.listdir(os.path.dirname(html)))
    assert {"learning_curves.png", "task_weights.png", "gradient_cosine.png",
            "conflict_fraction.png", "cosine_series.png", "affinity.png", "gates.png",
            "gate_entropy.png", "summary.md"} <= files
    check_page(chromium, html, tmp_path, min_images=8)


def test_study_report_renders_the_leaderboard_and_every_figure(small_study, chromium, tmp_path):
    _, out, _ = small_study
    assert report_cli.main(["--study", out]) == 0
    html = os.path.join(out, "report", "index.html")
    text = open(html).read()
    assert "Leaderboard" in text and "tuned_equal" in text and "Verdict" in text
    files = set(os.listdir(os.path.dirname(html)))
    assert {"metric_bars.png", "delta_m.png", "pareto.png", "gates_mmoe-equal.png"} <= files
    check_page(chromium, html, tmp_path, min_images=6)
    summary = open(os.path.join(out, "report", "summary.md")).read()
    assert "| cell |" in summary


def test_nothing_to_report_is_an_error(tmp_path, capsys):
    assert report_cli.main(["--run", str(tmp_path)]) == 2
    assert "no history.json" in capsys.readouterr().err


def _two_row_study(tmp_path, tune=None):
    """A hand-made study.json (a single-task and a cell row, 2 seeds) in `tmp_path`: the cell
    trains an auxiliary task beside its main one; with `tune`, every row has a setting."""
    import json

    stat = {"n": 2, "mean": 0.7, "std": 0.01, "ci_low": 0.6, "ci_high": 0.8, "values": [0.69, 0.71],
            "metric": "accuracy", "higher_is_better": True}
    runs, board = [], []
    for group, cell in (("single_task", "left"), ("cell", "left_right")):
        for seed in (0, 1):
            run_dir = f"{group}/{cell}/seed{seed}"
            os.makedirs(tmp_path / run_dir)
            diagnostics = {"tasks": ["left", "right"] if group == "cell" else ["left"],
                           "gradient_cosine": [[1.0, -0.2], [-0.2, 1.0]] if group == "cell"
                           else [[1.0]]}
            with open(tmp_path / run_dir / "history.json", "w") as f:
                json.dump([{"epoch": 1, "diagnostics": diagnostics}], f)
            runs.append({"group": group, "cell": cell, "seed": seed, "run_dir": run_dir,
                         "status": "done", "config": {}, "overrides": {},
                         "test": {"left": {"accuracy": 0.7}}})
        board.append({"group": group, "cell": cell, "overrides": {}, "seeds": [0, 1],
                      "tasks": {"left": stat}, "data_group": "base", "labels": {},
                      "step_time_ms": 1.0, "peak_memory_mb": 1.0, "wall_time_s": 1.0,
                      "runs": {"done": 2, "failed": 0, "planned": 2},
                      "setting": ({"left": "0.001"} if group == "single_task" else "0.003")
                      if tune else ""})
    study = {"name": "aux", "study_file": "aux.yaml", "base": "configs/tiny.yaml", "base_set": [],
             "seeds": [0, 1], "seed_keys": ["train.seed"], "tasks": ["left"], "axes": {},
             "primary_metrics": {"left": ["accuracy", True]}, "tuned_equal": None,
             "tune": tune, "leaderboard": board, "runs": runs}
    with open(tmp_path / "study.json", "w") as f:
        json.dump(study, f)


def test_study_report_labels_matrices_with_the_trained_tasks(tmp_path):
    # A study with auxiliary tasks: its leaderboard has the main task only, while each cell's
    # diagnostics cover every trained task (the report used to fail on a 2x2 matrix, 1 label).
    from reporting.study_report import write_study_report

    _two_row_study(tmp_path)
    html = write_study_report(str(tmp_path))
    assert os.path.exists(tmp_path / "report" / "cosine_left_right.png")
    assert os.path.exists(html)


def test_a_tuned_study_s_leaderboard_shows_each_row_s_setting_and_seeds(tmp_path):
    from reporting.study_report import write_study_report

    _two_row_study(tmp_path, tune={"budget": 2, "settings": {"0.001": {}, "0.003": {}},
                                   "criterion": "mean validation Δm", "contenders": {}})
    html = open(write_study_report(str(tmp_path))).read()
    assert "<th>setting</th><th>n</th>" in html.replace("\n", "")
    assert "<td>left 0.001</td><td>2</td>" in html.replace("\n", "")
    assert "<td>0.003</td><td>2</td>" in html.replace("\n", "")
    assert "same 2 settings (0.001, 0.003)" in html


@pytest.mark.slow  # the grouping study of tests/conftest.py
def test_study_report_has_the_grouping_section(grouping_study, chromium, tmp_path):
    _, out, _ = grouping_study
    assert report_cli.main(["--study", out]) == 0
    html = os.path.join(out, "report", "index.html")
    files = set(os.listdir(os.path.dirname(html)))
    assert {"grouping_curve_delta_m.png", "grouping_curve_loss_gain.png", "predicted_delta_m.png",
            "grouping_affinity_seed0.png", "grouping_affinity_seed1.png", "tree_l2b_seed0.png",
            "tree_l2b_seed1.png"} <= files
    summary = open(os.path.join(out, "report", "summary.md")).read()
    for heading in ("Task grouping: the planted groups", "Task grouping: groups per budget",
                    "Task grouping: measured per budget", "predicted against measured",
                    "affinity, ordered by group", "Learning to Branch: the learned trees"):
        assert heading in summary
    assert "| 2 | {" in summary  # the groups of 2 networks, per seed
    check_page(chromium, html, tmp_path, min_images=10)


@pytest.mark.slow
def test_run_report_draws_a_learned_tree(grouping_study, capsys):
    _, out, _ = grouping_study
    run = os.path.join(out, "runs", "l2b", "seed0")
    assert report_cli.main(["--run", run]) == 0
    assert os.path.exists(os.path.join(run, "report", "tree.png"))
    assert "Learning to Branch: each node" in open(os.path.join(run, "report", "summary.md")).read()
