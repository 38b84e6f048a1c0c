"""An analysis cached beside the built data, so it runs once per dataset version.

`load_or_compute(path, fingerprint, compute, from_config)` reads `path` (JSON) when it was
written for the same fingerprint (the CSV and tagged-text paths hash their options and each
file's path, size and modification time), else calls `compute()` and writes its result
there atomically (`to_config()`, with `extra` entries beside it); `train.py`, `evaluate.py`
and `export.py` then read it back instead of reading the files again. `path` is under the
data dir (`data_dir/<builder>/<config>/`), never beside the input files, and may be on any
file system TensorFlow has, as the data dir may (`gs://...`: `data.file_system`).

Example:
>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "schema.json")
>>> class Counted(dict):
...     def to_config(self): return dict(self)
>>> load_or_compute(path, "f1", lambda: Counted(a=1), Counted)
{'a': 1}
>>> load_or_compute(path, "f1", lambda: Counted(a=2), Counted)  # read back, not computed
{'a': 1}
"""

import json

from data import file_system


def load_or_compute(path, fingerprint, compute, from_config, extra=None):
    """The cached result at `path` for `fingerprint`, else `compute()`'s, written there."""
    try:
        cached = json.loads(file_system.read_text(path))
        if cached.get("fingerprint") == fingerprint:
            return from_config(cached["schema"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    result = compute()
    file_system.write_text(path, json.dumps(
        {"fingerprint": fingerprint, **(extra or {}), "schema": result.to_config()}, indent=1))
    return result
