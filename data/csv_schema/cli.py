"""`python -m data.csv_schema`: print the inferred schema of CSV/TSV files (types, roles,
cardinality, missing cells, label counts per split) without building a dataset.

    python -m data.csv_schema FILE... [--labels '{income: binary}'] [--set key=YAML]
    python -m data.csv_schema --config configs/csv_census.yaml   # a config's data.options

Exit status: 0 printed, 2 a bad option or file (an `error: ...` line).

Example:
>>> from data.csv_schema.cli import main
>>> main(["examples/customers.csv", "--labels", "{churned: binary}"])  # doctest: +ELLIPSIS
column ...
"""

import argparse
import inspect
import sys

from data.csv_options import CsvError, make_options
from data.csv_schema.analysis import analyze


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m data.csv_schema",
        description="Print the inferred schema of CSV/TSV files (types, roles, cardinality, "
                    "missing cells, label counts per split) without building a dataset.")
    p.add_argument("files", nargs="*", help="training file(s) or globs (data.options.train; "
                                            "default: the --config's)")
    p.add_argument("--labels", default="{}",
                   help="YAML mapping, as data.options.labels: '{income: binary}'")
    p.add_argument("--config", help="take data.options from this config file (files and "
                                    "--set override them)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=YAML",
                   help="any other option, e.g. --set 'extra_na_values=[\"?\"]' "
                        "--set 'column_names=[a, b, c]'")
    return p, p.parse_args(argv)


def given_options(parser, args):
    """`data.options` from the --config, then the files, --labels and each --set."""
    import yaml

    given = {}
    if args.config:
        with open(args.config) as f:
            given = dict(((yaml.safe_load(f) or {}).get("data") or {}).get("options") or {})
    if args.files:
        given["train"] = args.files
    if "train" not in given:
        parser.error("give the training file(s), or a --config naming them")
    labels = yaml.safe_load(args.labels)
    if labels:
        given["labels"] = labels
    given.setdefault("labels", {})
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--set {item!r}: expected KEY=VALUE")
        given[key.strip()] = yaml.safe_load(value)
    return given


def main(argv=None):
    parser, args = parse_args(argv)
    given = given_options(parser, args)
    valid = [k for k in inspect.signature(make_options).parameters]
    unknown = sorted(set(given) - set(valid) - {"data_dir"})
    if unknown:
        print(f"error: data.options: unknown option(s) {unknown}; valid options: "
              f"{', '.join(valid)}", file=sys.stderr)
        return 2
    given.pop("data_dir", None)
    try:
        schema = analyze(make_options(**given))
    except CsvError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(schema.format())
    print(f"analysed in {schema.seconds:.2f} s")
    return 0
