"""`python -m data.csv_schema`: see `data/csv_schema/cli.py`."""

import sys

from data.csv_schema.cli import main

sys.exit(main())
