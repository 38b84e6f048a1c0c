"""Input kinds as objects: dispatch and config round trip, the declared interface, the
tf.Example round trip and stored cells of each kind, and a new kind (a hashed id) added as
one class plus one registry line, through the shared build/train/save/export/serve path."""

import dataclasses
import inspect

import numpy as np
import pyarrow as pa
import pytest
import tensorflow as tf

from data.csv_cells import Cells
from data.csv_options import make_options
from inputs import INPUT_KINDS, InputKind, InputSpec, inputs_from_config, list_kinds
from models.export import example_feature_spec, parse_examples, sample_inputs
from tasks import Task
from tests.code_scan import kind_string_comparisons
from tests.models.helpers import run_architecture_test

VOCAB = ("the", "deficit", "will")
EXAMPLES = (InputSpec("image", "image", shape=(4, 4, 3), dtype="uint8"),
            InputSpec("age", "numeric", mean=40.0, variance=100.0, fill_value=40.0),
            InputSpec("vec", "numeric", shape=(3,), mean=1.0, variance=1.0),
            InputSpec("city", "categorical", dtype="string", vocabulary=("a", "b"),
                      fill_value="a", strip_whitespace=True, na_values=("?",)),
            InputSpec("text", "text", dtype="string", vocabulary=VOCAB),
            InputSpec("tokens", "text", shape=(None,), dtype="string", vocabulary=VOCAB),
            InputSpec("user", "hashed", dtype="string", num_buckets=32, embedding_dim=4),
            InputSpec("clicks", "id_list", dtype="string", num_buckets=32, embedding_dim=4))


def test_input_spec_returns_the_kind_class_and_round_trips():
    for spec in EXAMPLES:
        assert type(spec) is INPUT_KINDS.get(spec.kind)
        assert isinstance(spec, InputSpec) and isinstance(spec, InputKind)
        assert InputSpec.from_config(spec.to_config()) == spec
    assert {s.kind for s in EXAMPLES} == set(list_kinds())
    # A config saved before a field existed lacks it.
    old = {k: v for k, v in EXAMPLES[4].to_config().items() if k != "char_features"}
    assert inputs_from_config([old]) == (EXAMPLES[4],)
    with pytest.raises(ValueError, match="Input 'x': kind: unknown input kind 'audio'; known "
                                         "input kinds: categorical, hashed, id_list, image, "
                                         "numeric, text"):
        InputSpec("x", "audio")
    with pytest.raises(ValueError, match=r"InputSpec: unknown field\(s\) \['colour'\]"):
        InputSpec.from_config({**EXAMPLES[0].to_config(), "colour": "red"})
    with pytest.raises(ValueError, match="resize must be"):
        InputSpec("image", "image", shape=(4, 4, 1), resize=(2,))


def _parameters(member):
    return [(p.name, p.kind, p.default) for p in inspect.signature(member).parameters.values()]


@pytest.mark.parametrize("name, kind", INPUT_KINDS.items())
def test_every_kind_has_every_member_with_one_signature(name, kind):
    assert not inspect.isabstract(kind), f"{name} lacks {sorted(kind.__abstractmethods__)}"
    for member, declared in vars(InputKind).items():
        if callable(declared) and not member.startswith("_"):
            assert _parameters(getattr(kind, member)) == _parameters(declared), \
                f"{name}.{member} has its own signature"


def test_only_the_layer_compares_input_kind_strings():
    assert kind_string_comparisons(list_kinds()) == []


def _example(values):
    """A serialized tf.Example of one row of raw values (an image as PNG bytes)."""
    features = {}
    for name, value in values.items():
        value = np.asarray(value)
        if value.dtype == np.uint8:
            features[name] = tf.train.Feature(bytes_list=tf.train.BytesList(
                value=[tf.io.encode_png(value).numpy()]))
        elif value.dtype.kind == "f":
            features[name] = tf.train.Feature(float_list=tf.train.FloatList(
                value=value.reshape(-1).tolist()))
        else:
            cells = [str(v).encode() for v in value.reshape(-1) if str(v)]
            features[name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=cells))
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()


def test_each_kind_travels_in_a_tf_example_as_its_raw_values():
    raw = sample_inputs(EXAMPLES, n=3, seed=4)
    examples = tf.constant([_example({k: v[i] for k, v in raw.items()}) for i in range(3)])
    parsed = parse_examples(examples, EXAMPLES)
    for spec in EXAMPLES:
        got, want = parsed[spec.name].numpy(), raw[spec.name]
        if want.dtype == object:
            got = np.vectorize(bytes.decode, otypes=[object])(got)
            want = want[:, :got.shape[1]] if spec.shape else want  # padded to the longest
        np.testing.assert_array_equal(got, want, err_msg=spec.name)
    # A missing feature parses as the value the model imputes (numbers) or an empty cell.
    empty = parse_examples(tf.constant([_example({"image": raw["image"][0]})]), EXAMPLES)
    assert float(empty["age"][0]) == 40.0 and empty["vec"].numpy().tolist() == [[1.0] * 3]
    assert empty["city"].numpy().tolist() == [b""] and empty["tokens"].shape == (1, 0)
    assert empty["user"].numpy().tolist() == [b""] and empty["clicks"].shape == (1, 0)
    assert sorted(example_feature_spec(EXAMPLES)) == sorted(s.name for s in EXAMPLES)


def test_each_kind_stores_a_table_column_from_its_cells():
    cells = Cells(make_options(train="examples/customers.csv", labels={"plan": "multiclass"},
                               extra_na_values=["?"]))
    column = pa.array([" 3.5", "", "?"])
    numeric, categorical, text = EXAMPLES[1], EXAMPLES[3], EXAMPLES[4]
    assert np.isnan(numeric.stored_values(cells, pa.array(["1", ""]), str)).tolist() == \
        [False, True]
    assert categorical.stored_values(cells, column, str).tolist() == ["3.5", "", ""]
    assert text.stored_values(cells, column, str).tolist() == ["3.5", "", ""]
    assert numeric.stored_feature == ("float32", ()) and categorical.stored_feature == (
        "string", ())
    with pytest.raises(ValueError, match="row 1: numeric feature 'x' is not a number"):
        numeric.stored_values(cells, pa.array(["1", "x"]), lambda i: f"row {i}")
    for spec in (EXAMPLES[0], EXAMPLES[5]):
        with pytest.raises(ValueError, match="not read from"):
            spec.stored_values(cells, column, str)


@dataclasses.dataclass(frozen=True)
class HashedIdInput(InputKind):
    """A string id of unbounded vocabulary, hashed into `num_buckets` and embedded."""

    num_buckets: int = 16

    is_column = True

    def preprocess(self, x, tables=None):
        import keras
        x = keras.layers.Hashing(self.num_buckets, name=f"{self.name}_hash")(x)
        x = keras.layers.Embedding(self.num_buckets, 4, name=f"{self.name}_embed")(x)
        return keras.layers.Flatten(name=f"{self.name}_flat")(x)

    def example_feature(self):
        return tf.io.FixedLenFeature([], tf.string, default_value="")

    def from_example(self, value):
        return value

    def sample(self, n, rng):
        return np.array([f"user{i}" for i in rng.integers(0, 1000, n)], dtype=object)

    def stored_values(self, cells, column, where):
        values, missing = cells.text(column)
        return np.where(missing, "", values.to_numpy(zero_copy_only=False).astype(object))


@pytest.fixture
def hashed_id_kind(monkeypatch):
    """`hashed_id` registered for one test (the registry's one line)."""
    monkeypatch.setitem(INPUT_KINDS._entries, "hashed_id", HashedIdInput)


def test_a_new_input_kind_is_one_class_and_trains_exports_and_serves(tmp_path, hashed_id_kind):
    user = InputSpec("user", "hashed_id", dtype="string", num_buckets=8)
    assert type(user) is HashedIdInput and user.to_config()["num_buckets"] == 8
    model = run_architecture_test(
        tmp_path, "shared_bottom", {"tower_units": [4]}, encoder="mlp",
        encoder_args={"units": [4]}, tasks=(Task("churned", "binary"),),
        inputs=(user, EXAMPLES[1]))
    assert model.get_layer("user_hash").num_bins == 8
