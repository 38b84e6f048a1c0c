"""`CsvSchema`: the analysed CSV files, as the builder, the trainer and the exporter read them.

The result of `data.csv_schema.analyze`, cached as JSON beside the built data
(`to_config`/`from_config`): the tasks and inputs, the source column of each, row and
label counts per split, where each split's rows come from, and the per-column report
(`format()`, `data/csv_schema/report.py`).
"""

import dataclasses
from typing import Dict, Tuple

from data.csv_schema.report import format_report
from inputs import InputSpec, inputs_from_config, inputs_to_config
from tasks import Task, tasks_from_config, tasks_to_config


@dataclasses.dataclass
class CsvSchema:
    """The analysed CSV files (JSON round trip: `to_config`/`from_config`).

    Args:
        tasks: tuple of `Task`. One per label, in the order of `labels`.
        inputs: tuple of `InputSpec`. One per feature column.
        columns: dict. Input or task name -> its source column.
        rows: dict. Split -> number of rows.
        label_counts: dict. Task -> split -> {"labelled": n, "missing": n}.
        sources: dict. Split -> where its rows come from.
        report: list of dict. One row per column: column, name, role, type, distinct,
            missing, rows, note.
        seconds: float. How long the analysis took.
    """

    tasks: Tuple[Task, ...]
    inputs: Tuple[InputSpec, ...]
    columns: Dict[str, str]
    rows: Dict[str, int]
    label_counts: Dict[str, dict]
    sources: Dict[str, str]
    report: list
    seconds: float = 0.0

    def to_config(self):
        return {"tasks": tasks_to_config(self.tasks), "inputs": inputs_to_config(self.inputs),
                "columns": dict(self.columns), "rows": dict(self.rows),
                "label_counts": self.label_counts, "sources": dict(self.sources),
                "report": list(self.report), "seconds": self.seconds}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["tasks"] = tasks_from_config(config["tasks"])
        config["inputs"] = inputs_from_config(config["inputs"])
        return cls(**config)

    def format(self):
        """The report as text: one line per column, then the label counts per split."""
        return format_report(self)
