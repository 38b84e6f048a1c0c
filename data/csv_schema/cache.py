"""The schema cached beside the built data, so the analysis runs once per dataset version.

`load_or_analyze(options, folder)` reads `folder/csv_schema.json` when it was written for
the same options fingerprint (which hashes the options and each file's path, size and
modification time), else analyses the files and writes it there atomically; `train.py`,
`evaluate.py` and `export.py` then read it back instead of reading the files again.
"""

import json
import os

import data.csv_schema.analysis as analysis
from data.csv_schema.schema import CsvSchema

SCHEMA_FILE = "csv_schema.json"


def load_or_analyze(options, folder):
    """The `CsvSchema` of `options`: read from `folder/csv_schema.json` when it was written
    for the same fingerprint, else analysed and written there (atomically)."""
    fingerprint = options.fingerprint()
    path = os.path.join(folder, SCHEMA_FILE)
    try:
        with open(path) as f:
            cached = json.load(f)
        if cached.get("fingerprint") == fingerprint:
            return CsvSchema.from_config(cached["schema"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    schema = analysis.analyze(options)
    os.makedirs(folder, exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump({"fingerprint": fingerprint, "options": options.to_config(),
                   "schema": schema.to_config()}, f, indent=1)
    os.replace(tmp, path)
    return schema
