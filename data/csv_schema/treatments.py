"""How each analysed feature column becomes a model input: normalised numbers, a vocabulary
or hashed ids, a pooled list of ids, a pooled text; tables shared between columns.

- numeric: the training mean and variance (missing cells imputed with the mean);
- categorical and list columns: a vocabulary (the values seen `min_count` times, the
  `max_tokens` most frequent; the rest share `num_oov_buckets` rows), or hashing into
  `num_buckets` rows, as `feature_options.<column>.treatment` says; undeclared, a column
  with more than `hash_threshold` distinct training values is hashed into `hash_buckets`
  rows (the report notes it), so a million-id column costs a bounded table;
- columns with the same `shared_embedding` share one table, hence one treatment: their
  vocabulary is made from all their values together, their buckets and width must agree;
- text: a vocabulary of the training tokens, pooled (`mean` unless `pooling` says `sum`).

Example:
>>> from data.csv_options import make_options
>>> from data.csv_schema import analyze
>>> schema = analyze(make_options(train="examples/customers.csv", labels={"churned": "binary"},
...                               feature_options={"city": {"treatment": "hashing",
...                                                         "num_buckets": 50}}))
>>> [r["treatment"] for r in schema.report if r["column"] == "city"]
['hashing into 50 buckets, 15 wide']
"""

from data.csv_options import CsvError, identifier
from data.csv_schema.stats import ValueCounter
from inputs import InputSpec

SHARED_KEYS = ("num_buckets", "embedding_dim", "num_oov_buckets", "max_tokens", "min_count")


def feature_specs(stats, features, options):
    """(the `InputSpec` of each feature column, {column: note on its treatment})."""
    shared = shared_groups(stats, features, options)
    specs, notes = [], {}
    for column in features:
        spec, notes[column] = spec_of(stats[column], identifier(column), options,
                                      shared.get(column, {}))
        specs.append(spec)
    return tuple(specs), notes


def vocabulary(counter, min_count, max_tokens=None):
    """The values of a `ValueCounter` seen `min_count` times, the `max_tokens` most frequent."""
    values, counts = counter.result()
    kept = [v for v, c in zip(values, counts) if c >= min_count]
    return tuple(kept[:max_tokens] if max_tokens else kept)


def treatment_of(stat, options, given):
    """(`vocabulary` or `hashing`, a note when hashing was chosen for the column's size)."""
    if given.get("treatment"):
        return given["treatment"], ""
    if stat.capped or len(stat.counter) > options.hash_threshold:
        return "hashing", (f"more than hash_threshold {options.hash_threshold:,} distinct "
                           f"values: hashed (feature_options.{stat.column}.treatment: "
                           "vocabulary keeps them)")
    return "vocabulary", ""


def spec_of(stat, name, options, shared):
    """(`InputSpec`, note) of one analysed column; `shared`: its table group's settings."""
    where = f"{', '.join(options.train)}, column {stat.column!r}"
    if stat.numeric:
        if stat.n == 0:
            raise CsvError(f"{where}: no values in the training rows (every cell is missing)")
        variance = stat.m2 / stat.n
        return InputSpec(name, "numeric", shape=(), dtype="float32", mean=stat.mean,
                         variance=variance if variance > 0 else 1.0, fill_value=stat.mean), ""
    if not len(stat.counter):
        what = "text" if stat.form == "text" else "values"
        raise CsvError(f"{where}: no {what} in the training rows (every cell is missing or "
                       "empty)")
    given = {**options.column_options(stat.column), **shared}
    min_count = given.get("min_count") or options.min_frequency
    if stat.form == "text":
        return InputSpec(name, "text", dtype="string", embedding_dim=given.get("embedding_dim"),
                         vocabulary=vocabulary(stat.counter, min_count, given.get("max_tokens")),
                         lowercase=bool(given.get("lowercase")),
                         pooling=given.get("pooling") or "mean"), ""
    treatment, note = treatment_of(stat, options, given)
    common = dict(dtype="string", embedding_dim=given.get("embedding_dim"),
                  shared_embedding=given.get("shared_embedding"),
                  strip_whitespace=options.strip_whitespace,
                  na_values=tuple(v for v in options.missing_values if v))
    if treatment == "hashing":
        ids = {"num_buckets": given.get("num_buckets") or options.hash_buckets}
    else:
        ids = {"num_oov_buckets": given.get("num_oov_buckets") or 1,
               "vocabulary": given.get("vocabulary") or vocabulary(
                   stat.counter, min_count, given.get("max_tokens"))}
    if stat.form == "list":
        return InputSpec(name, "id_list", pooling=given.get("pooling") or "mean",
                         separator=given.get("separator"), **common, **ids), note
    if treatment == "hashing":
        return InputSpec(name, "hashed", **common, **ids), note
    return InputSpec(name, "categorical", fill_value=stat.counter.result()[0][0], **common,
                     **ids), note


def shared_groups(stats, features, options):
    """{column: settings of its shared table} for the columns with a `shared_embedding`: one
    treatment, one bucket count and width, and a vocabulary of all their values."""
    groups = {}
    for column in features:
        table = options.column_options(column).get("shared_embedding")
        if table:
            groups.setdefault(table, []).append(column)
    out = {}
    for table, members in groups.items():
        where = f"data.options.feature_options ({', '.join(members)}: shared_embedding {table})"
        for column in members:
            if stats[column].numeric or stats[column].form == "text":
                raise CsvError(f"{where}: {column!r} is {stats[column].type_name}; only id "
                               "columns (categorical, list) share a table")
        settings = _agreed(members, options, where, ("treatment",) + SHARED_KEYS)
        merged = ValueCounter()
        for column in members:
            merged.values += stats[column].counter.values
            merged.counts += stats[column].counter.counts
        if not settings.get("treatment"):
            big = any(stats[c].capped for c in members) or len(merged) > options.hash_threshold
            settings["treatment"] = "hashing" if big else "vocabulary"
        if settings["treatment"] == "vocabulary":
            settings["vocabulary"] = vocabulary(merged, settings.get("min_count") or
                                                options.min_frequency, settings.get("max_tokens"))
        out.update({column: settings for column in members})
    return out


def _agreed(members, options, where, keys):
    """The settings `keys` the members give, which must not differ."""
    out = {}
    for key in keys:
        values = {options.column_options(c).get(key) for c in members} - {None}
        if len(values) > 1:
            raise CsvError(f"{where}: {key} differs between the columns ({sorted(values)}); "
                           "valid: one value for every column of a shared table")
        if values:
            out[key] = values.pop()
    return out
