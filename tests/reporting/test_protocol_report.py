"""report.py --study on a protocol study (reporting/protocol_report.py): every figure
and the claims table are written, self-contained."""

import os

import report as report_cli


def test_the_protocol_report_has_curves_histograms_claims_and_the_pilot(protocol_study,
                                                                         capsys):
    _, out, _ = protocol_study
    assert report_cli.main(["--study", out]) == 0
    folder = os.path.join(out, "report")
    assert f"wrote {os.path.abspath(folder)}" in capsys.readouterr().out
    assert {"normal_train_curves.png", "normal_validation_curves.png",
            "normal_correlations.png", "normal_histograms.png"} <= set(os.listdir(folder))
    page = open(os.path.join(folder, "index.html")).read()
    assert page.count("data:image/png;base64,") == 4 and "http" not in page.split("<body")[1]
    summary = open(os.path.join(folder, "summary.md")).read()
    for text in ("(iii) OMoE and MMoE reach a lower loss", "Pilot: the learning rates",
                 "linear-fit floor", "Final loss: the mean over the two tasks"):
        assert text in summary, text
