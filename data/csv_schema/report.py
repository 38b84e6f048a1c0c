"""The schema report: one row per column of the files (role, type, distinct values,
missing cells, a note), and the text `python -m data.csv_schema` and the build print.

Example:
>>> from data.csv_options import make_options
>>> from data.csv_schema import analyze
>>> schema = analyze(make_options(train="examples/customers.csv",
...                               labels={"churned": "binary", "spend": "regression"}))
>>> print(format_report(schema).splitlines()[0])  # doctest: +NORMALIZE_WHITESPACE
column  role  type  distinct  missing  treatment  note
"""

from data.csv_options import SPLITS, identifier

HEADER = ("column", "role", "type", "distinct", "missing", "treatment", "note")


def format_report(schema):
    """A `CsvSchema`'s report as text: one line per column, then the rows per split and
    the label counts of each task."""
    splits = [s for s in SPLITS if schema.rows.get(s)]
    text = column_lines(schema.report)
    text.append("rows: " + ", ".join(f"{s} {schema.rows[s]:,} ({schema.sources[s]})"
                                     for s in splits))
    text.extend(task_line(task, schema.label_counts[task.name], splits) for task in schema.tasks)
    return "\n".join(text)


def column_lines(report):
    """The report rows as aligned text lines, under a header."""
    lines = [HEADER]
    for r in report:
        missing = f"{100.0 * r['missing'] / r['rows']:.1f}%" if r["rows"] else "-"
        lines.append((r["column"], r["role"], r["type"], str(r["distinct"]), missing,
                      r.get("treatment", ""), r["note"]))
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER) - 1)]
    return [("  ".join(c.ljust(w) for c, w in zip(line[:-1], widths)) + "  " + line[-1]).rstrip()
            for line in lines]


def task_line(task, counts, splits):
    """`task <name> (<kind>: <classes>; target mean/std): <labelled / missing per split>`."""
    about = task.kind
    if task.classes:
        about += f": {', '.join(task.classes[:8])}" + ("..." if len(task.classes) > 8 else "")
    if task.target_mean is not None:
        about += f"; target mean {task.target_mean:.4g}, std {task.target_std:.4g}"
    return (f"task {task.name} ({about}): "
            + ", ".join(f"{s} {counts[s]['labelled']:,} labelled / "
                        f"{counts[s]['missing']:,} missing" for s in splits))


def report_rows(header, stats, specs, tasks, label_counts, distinct, excluded, inputs=None,
                notes=None):
    """One report row per column of the header (a label source once per label it feeds);
    `inputs`/`notes`: each feature column's `InputSpec` and the note on its treatment."""
    report = []
    inputs, notes = inputs or {}, notes or {}
    for column in header:
        if column in stats:
            report.append(stats[column].report(identifier(column), inputs.get(column),
                                               notes.get(column, "")))
        for spec in (s for s in specs if s.column == column):
            task = next(t for t in tasks if t.name == spec.name)
            report.append(label_row(column, spec, task, label_counts[task.name],
                                    distinct[spec.name]))
        if column in excluded:
            report.append({"column": column, "name": identifier(column), "role": "excluded",
                           "type": "-", "distinct": "-", "missing": 0, "rows": 0, "note": ""})
    return report


def label_row(column, spec, task, counts, distinct):
    """The report row of a label (`label`, or `label source (<task>)` for a derived one)."""
    labelled = sum(c["labelled"] for c in counts.values())
    absent = sum(c["missing"] for c in counts.values())
    plain = spec.column == spec.key and spec.name == identifier(column)
    return {"column": column, "name": task.name,
            "role": "label" if plain else f"label source ({spec.name})",
            "type": task.kind, "distinct": distinct, "missing": absent,
            "rows": labelled + absent, "note": ""}
