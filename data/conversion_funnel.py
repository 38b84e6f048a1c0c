"""`conversion_funnel`: impressions -> clicks -> conversions with sample selection bias.

A synthetic ad log for the funnel models (`esmm`, `aitm`), generated from a seed, so
the true click and conversion probabilities of every impression are known. Each
impression shows an item to a user at a slot; the user may click, and only after a
click may convert. A log records a conversion label only for clicked impressions, so
a CVR model trained on them sees a biased sample of the impressions it must score
(sample selection bias) and few rows (data sparsity).

How the data are drawn (all draws from `seed`; items once per config, impressions per
split):

- items i = 0..num_items-1 with hidden quality q_i ~ N(0, 1), hidden "clickbait" b_i ~
  N(0, 1), base price m_i ~ N(0, 1) and popularity w_i ~ exp(N(0, 1)) (a long tail);
- an impression: item i ~ w, user features u ~ N(0, I_user_dim), slot position in
  1..5 (uniform), price = m_i + 0.3·N(0, 1);
- click ~ Bernoulli(sigmoid(a_c + 0.8·q_i + selection·b_i - 0.5·(position - 3) + 0.6·w_cᵀu));
- conversion if clicked ~ Bernoulli(sigmoid(a_v + 1.0·q_i - selection·b_i - 0.8·price +
  0.6·w_vᵀu)), drawn for EVERY impression (the potential outcome) and kept where the
  log would have it;
- w_c, w_v unit vectors with cosine 0.5; a_c, a_v set (by bisection on the training
  impressions) so the mean click probability is `ctr` and the mean conversion
  probability over all impressions is `cvr`.

Known effects: position acts on clicks only, price mostly on conversions (and not on
clicks), quality raises both, clickbait raises clicks and lowers conversions: clicked
impressions are richer in clickbait, so the conversion rate among clicks
under-states the items that are rarely clicked. Selection is on the features only
(no hidden confounder): p(conversion | click, x) is the potential-outcome conversion
probability, which a model can learn in principle, but the clicked rows cover the
impressions unevenly.

Inputs: `user` (user_dim floats), `item` (string id, `item0000` ...), `price`,
`position` (floats). Tasks (binary):

- `click`: clicked; every impression.
- `conversion`: converted after a click (the CVR label). Train and validation: only
  clicked impressions carry it (-1, masked, elsewhere), as in a log. Test (with
  `entire_space_test`, the default): every impression carries its potential outcome,
  so test metrics of `conversion` measure pCVR on ALL impressions, where the model is
  used; the validation split measures it where a log can (clicked rows).
- `click_conversion`: clicked and converted (CTCVR); every impression.

Every example also stores the true `ctr_probability` and `cvr_probability` (not model
inputs). `info.metadata["rates"]` has, per split, the click rate, the mean conversion
probability over all impressions and over the clicked ones, and the number of
labelled conversion rows.

Example:
>>> import data
>>> spec = data.get_dataset("conversion_funnel", train_size=512)
>>> [t.name for t in spec.tasks], [i.name for i in spec.inputs]
(['click', 'conversion', 'click_conversion'], ['user', 'item', 'price', 'position'])
"""

import dataclasses

import numpy as np
import tensorflow_datasets as tfds

from data.offline_builder import OfflineBuilder, ParamsConfig, SPLITS
from data.dataset_spec import DatasetSpec
from data.options import GENERATOR_SEED, TEST_SIZE, TRAIN_SIZE, VALIDATION_SIZE
from inputs import InputSpec
from tasks import Task
from utils.arguments import Arg, arguments

TASKS = (Task("click", "binary"), Task("conversion", "binary"),
         Task("click_conversion", "binary"))
POSITIONS = 5
PRICE_NOISE = 0.3
# Effect sizes (logit scale) of the generator; the module docstring lists them.
CLICK_QUALITY, CLICK_POSITION, CLICK_USER = 0.8, -0.5, 0.6
CONVERSION_QUALITY, CONVERSION_PRICE, CONVERSION_USER = 1.0, -0.8, 0.6
USER_COSINE = 0.5


@dataclasses.dataclass(frozen=True)
class FunnelParams:
    num_items: int = 500
    user_dim: int = 8
    ctr: float = 0.1
    cvr: float = 0.2
    selection: float = 1.0
    entire_space_test: bool = True
    train_size: int = 50000
    validation_size: int = 10000
    test_size: int = 20000
    seed: int = 0


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _intercept(logits, target):
    """a with mean(sigmoid(logits + a)) = target (bisection; the mean is monotone in a)."""
    low, high = -30.0, 30.0
    for _ in range(100):
        mid = 0.5 * (low + high)
        if _sigmoid(logits + mid).mean() < target:
            low = mid
        else:
            high = mid
    return 0.5 * (low + high)


def world(params):
    """The items and effect vectors of a config: {quality, clickbait, price, popularity,
    w_click, w_conversion} (numpy), drawn from the seed."""
    rng = np.random.default_rng([params.seed, 0])
    n, d = params.num_items, params.user_dim
    q, _ = np.linalg.qr(rng.normal(size=(d, 2)))  # two orthonormal directions
    w_click = q[:, 0]
    w_conversion = USER_COSINE * q[:, 0] + np.sqrt(1 - USER_COSINE ** 2) * q[:, 1]
    popularity = np.exp(rng.normal(size=n))
    return {"quality": rng.normal(size=n), "clickbait": rng.normal(size=n),
            "price": rng.normal(size=n), "popularity": popularity / popularity.sum(),
            "w_click": w_click, "w_conversion": w_conversion}


def _impressions(params, items, rng, count):
    """Features and the two logits (without intercepts) of `count` impressions."""
    item = rng.choice(params.num_items, size=count, p=items["popularity"])
    user = rng.normal(size=(count, params.user_dim))
    position = rng.integers(1, POSITIONS + 1, size=count).astype(np.float64)
    price = items["price"][item] + PRICE_NOISE * rng.normal(size=count)
    click = (CLICK_QUALITY * items["quality"][item] + params.selection * items["clickbait"][item]
             + CLICK_POSITION * (position - (POSITIONS + 1) / 2)
             + CLICK_USER * user @ items["w_click"])
    conversion = (CONVERSION_QUALITY * items["quality"][item]
                  - params.selection * items["clickbait"][item] + CONVERSION_PRICE * price
                  + CONVERSION_USER * user @ items["w_conversion"])
    return {"item": item, "user": user, "position": position, "price": price}, click, conversion


def intercepts(params):
    """(a_c, a_v): the intercepts that give the training impressions mean click
    probability `ctr` and mean conversion probability `cvr`."""
    items = world(params)
    _, click, conversion = _impressions(params, items, np.random.default_rng([params.seed, 1]),
                                        params.train_size)
    return _intercept(click, params.ctr), _intercept(conversion, params.cvr)


def generate_split(params, split_index):
    """One split as numpy arrays: the inputs, the labels (-1 = missing) and the true
    probabilities; deterministic for (params, split_index)."""
    items = world(params)
    a_click, a_conversion = intercepts(params)
    count = (params.train_size, params.validation_size, params.test_size)[split_index]
    rng = np.random.default_rng([params.seed, 1 + split_index])
    features, click_logit, conversion_logit = _impressions(params, items, rng, count)
    ctr = _sigmoid(click_logit + a_click)
    cvr = _sigmoid(conversion_logit + a_conversion)
    click = (rng.random(count) < ctr).astype(np.int64)
    converts = (rng.random(count) < cvr).astype(np.int64)  # the potential outcome
    entire_space = split_index == 2 and params.entire_space_test
    return {
        "user": features["user"].astype(np.float32),
        "item": np.array([f"item{i:04d}" for i in features["item"]], dtype=object),
        "price": features["price"].astype(np.float32),
        "position": features["position"].astype(np.float32),
        "click": click,
        "conversion": converts if entire_space else np.where(click == 1, converts, -1),
        "click_conversion": click * converts,
        "ctr_probability": ctr.astype(np.float32),
        "cvr_probability": cvr.astype(np.float32),
    }


def rates(split):
    """Click rate, mean conversion probability over all and over clicked impressions, and
    the labelled conversion rows of one generated split."""
    clicked = split["click"] == 1
    return {"click_rate": float(clicked.mean()),
            "cvr_all": float(split["cvr_probability"].mean()),
            "cvr_clicked": float(split["cvr_probability"][clicked].mean()) if clicked.any()
            else float("nan"),
            "conversion_labels": int((split["conversion"] >= 0).sum())}


def config_name(params: FunnelParams) -> str:
    """`default` for the default parameters, else every parameter spelled out."""
    if params == FunnelParams():
        return "default"
    q = params
    return (f"i{q.num_items}-u{q.user_dim}-ctr{q.ctr:g}-cvr{q.cvr:g}-s{q.selection:g}"
            f"-{'es' if q.entire_space_test else 'obs'}"
            f"-n{q.train_size}.{q.validation_size}.{q.test_size}-seed{q.seed}")


def make_config(params: FunnelParams) -> ParamsConfig:
    return ParamsConfig(name=config_name(params), params=params,
                        description="Impressions -> clicks -> conversions, selection bias.")


def item_names(params):
    return tuple(f"item{i:04d}" for i in range(params.num_items))


class ConversionFunnel(OfflineBuilder):
    """A synthetic impression -> click -> conversion log (see `data.conversion_funnel`)."""

    VERSION = tfds.core.Version("1.0.0")
    BUILDER_CONFIGS = [make_config(FunnelParams())]

    def _info(self):
        p = self.builder_config.params
        scalar = lambda dtype: tfds.features.Tensor(shape=(), dtype=dtype)  # noqa: E731
        features = {"user": tfds.features.Tensor(shape=(p.user_dim,), dtype=np.float32),
                    "item": tfds.features.Text(),
                    "price": scalar(np.float32), "position": scalar(np.float32),
                    **{t.name: scalar(np.int64) for t in TASKS},
                    "ctr_probability": scalar(np.float32), "cvr_probability": scalar(np.float32)}
        return self.generated_info(__doc__, features, TASKS,
                                   citation="Synthetic; the setting of Ma et al., Entire Space "
                                            "Multi-Task Model, SIGIR 2018.")

    def _split_generators(self, dl_manager):
        splits = {}
        self.info.metadata["rates"] = {}
        for i, split in enumerate(SPLITS):
            arrays = generate_split(self.builder_config.params, i)
            self.info.metadata["rates"][split] = rates(arrays)
            splits[split] = self._generate_examples(arrays)
        return splits

    def _generate_examples(self, arrays):
        for i in range(len(arrays["click"])):
            yield i, {k: v[i] for k, v in arrays.items()}


@arguments(num_items=Arg(int, "items; null: 500", range="[1, inf)", null=True),
           user_dim=Arg(int, "user feature width; null: 8", range="[1, inf)", null=True),
           ctr=Arg(float, "mean click rate; null: 0.1", range="(0, 1)", null=True),
           cvr=Arg(float, "mean conversion rate of clicks; null: 0.2", range="(0, 1)", null=True),
           selection=Arg(float, "strength of the clickbait selection bias; null: 1",
                         range="[0, inf)", null=True),
           entire_space_test=Arg(bool,
                                 "test split with every impression's conversion outcome; null: "
                                 "true",
                                 null=True),
           train_size=TRAIN_SIZE, validation_size=VALIDATION_SIZE, test_size=TEST_SIZE,
           seed=GENERATOR_SEED)
def conversion_funnel(num_items: int = None, user_dim: int = None, ctr: float = None,
                      cvr: float = None, selection: float = None,
                      entire_space_test: bool = None, train_size: int = None,
                      validation_size: int = None, test_size: int = None, seed: int = None):
    """Spec of `conversion_funnel` (options as in the module docstring; None = default)."""
    overrides = {k: v for k, v in dict(
        num_items=num_items, user_dim=user_dim, ctr=ctr, cvr=cvr, selection=selection,
        entire_space_test=entire_space_test, train_size=train_size,
        validation_size=validation_size, test_size=test_size, seed=seed).items() if v is not None}
    params = FunnelParams(**overrides)
    for key in ("ctr", "cvr"):
        if not 0.0 < float(getattr(params, key)) < 1.0:
            raise ValueError(f"data.options.{key}: must be in (0, 1); got {getattr(params, key)}")
    for key in ("num_items", "user_dim", "train_size"):
        if int(getattr(params, key)) < 1:
            raise ValueError(f"data.options.{key}: must be at least 1; got {getattr(params, key)}")
    items = item_names(params)
    most_popular = items[int(np.argmax(world(params)["popularity"]))]
    inputs = (InputSpec("user", "numeric", shape=(params.user_dim,), mean=0.0, variance=1.0),
              InputSpec("item", "categorical", dtype="string", vocabulary=items,
                        fill_value=most_popular),
              InputSpec("price", "numeric", mean=0.0, variance=1.0 + PRICE_NOISE ** 2),
              InputSpec("position", "numeric", mean=(POSITIONS + 1) / 2,
                        variance=(POSITIONS ** 2 - 1) / 12))
    config = make_config(params)
    return DatasetSpec(name="conversion_funnel", **ConversionFunnel.tfds_source(config),
                       tasks=TASKS, inputs=inputs,
                       description="Synthetic impression -> click -> conversion log with "
                                   "sample selection bias (ESMM, AITM).")

