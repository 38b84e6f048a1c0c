"""The schema of a user's CSV/TSV files: typed columns, tasks, training statistics, a report.

See `data/csv_schema/analysis.py` for the rules; `python -m data.csv_schema FILE ...`
prints the report (`cli.py`).

Example:
>>> from data.csv_options import make_options
>>> from data.csv_schema import analyze
>>> schema = analyze(make_options(train="examples/customers.csv",
...                               labels={"churned": "binary", "spend": "regression"}))
>>> CsvSchema.from_config(schema.to_config()) == schema
True
"""

from data.csv_schema.analysis import analyze  # noqa: F401
from data.csv_schema.cache import SCHEMA_FILE, load_or_analyze  # noqa: F401
from data.csv_schema.schema import CsvSchema  # noqa: F401
