"""Protocols: experiments run as a paper runs them, where a study's grid x seeds x Δm is not
the question (curves over steps, a pilot that picks each model's learning rate, claims
tested over hundreds of runs). A study file with `protocol: <name>` is one; `study.py`
runs it and `report.py --study` reports it.

- `mmoe_paper`: the synthetic experiment of Ma et al. (KDD 2018), §3.2 and §5
  (`configs/studies/mmoe_paper.yaml`).

Example:
>>> from training.protocols import protocol_of
>>> protocol_of("configs/studies/mmoe_paper.yaml"), protocol_of("configs/studies/tiny.yaml")
('mmoe_paper', None)
"""

import sys

import yaml

PROTOCOLS = ("mmoe_paper",)


def protocol_of(path):
    """The `protocol:` a study file names (None: an ordinary study, or no such file)."""
    try:
        with open(path) as f:
            raw = yaml.safe_load(f)
    except (OSError, yaml.YAMLError):
        return None
    return raw.get("protocol") if isinstance(raw, dict) else None


def _error(text):
    print(text, file=sys.stderr)


def run_study(path, output, max_minutes=None, log=print, error=_error):
    """Runs a protocol study file; returns the exit status (0 every chunk done, 3 some left,
    2 a bad file: `config error: ...` to `error`)."""
    from training.study.spec import StudyError

    name = protocol_of(path)
    if name not in PROTOCOLS:
        error(f"config error: {path}: protocol: unknown {name!r}; valid: {', '.join(PROTOCOLS)}")
        return 2
    from training.protocols.mmoe_paper.runner import run_protocol
    from training.protocols.mmoe_paper.spec import ProtocolSpec
    from training.protocols.mmoe_paper.summary import write_summary

    try:
        spec = ProtocolSpec.read(path)
        done = run_protocol(spec, output, max_minutes, log)
    except StudyError as e:
        error(f"config error: {e}")
        return 2
    content = write_summary(spec, output)
    log(f"wrote {output}/study.json ({content['runs_done']} runs per model, correlation and "
        f"sine setting); report: python report.py --study {output}")
    return 0 if done else 3
