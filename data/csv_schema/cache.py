"""The schema cached beside the built data, so the analysis runs once per dataset version.

`load_or_analyze(options, folder)` reads `folder/csv_schema.json` when it was written for
the same options fingerprint (which hashes the options and each file's path, size and
modification time), else analyses the files and writes it there atomically; `train.py`,
`evaluate.py` and `export.py` then read it back instead of reading the files again.
"""

import os

import data.csv_schema.analysis as analysis
from data.csv_schema.schema import CsvSchema
from data.schema_cache import load_or_compute

SCHEMA_FILE = "csv_schema.json"


def load_or_analyze(options, folder):
    """The `CsvSchema` of `options`: read from `folder/csv_schema.json` when it was written
    for the same fingerprint, else analysed and written there (atomically)."""
    return load_or_compute(os.path.join(folder, SCHEMA_FILE), options.fingerprint(),
                           lambda: analysis.analyze(options), CsvSchema.from_config,
                           extra={"options": options.to_config()})
