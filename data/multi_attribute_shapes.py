"""`multi_attribute_shapes`: procedurally drawn images with five labelled attributes.

Each image shows one large "main" object on a grey background, drawn on top of
0-2 smaller distractor objects, plus pixel noise. Tasks:

- `shape` (multiclass): the main object's shape: circle, square, triangle, diamond;
- `color` (multiclass): its colour: red, green, blue, yellow, magenta, cyan;
- `size` (regression): its radius as a fraction of the image side (0.15-0.30);
- `present` (multilabel): which shapes appear anywhere (main or distractor);
- `filled` (binary): whether the main object is filled (else an outline).

Everything is drawn with numpy from a seeded generator, so a config always
produces the same bytes. Configs (`image_size`, split sizes, `missing_fraction`,
`seed`) come predefined (`small`, `small_missing`, `large`) or from options;
`missing_fraction` drops that fraction of each task's labels independently
(stored as -1 / NaN), which exercises the per-task masks end to end. Labels are
dropped with a separate generator, so a config with missing labels has the
same images as the one without.

Example:
>>> import data
>>> from data.pipeline import load_split
>>> spec = data.get_dataset("multi_attribute_shapes", config="small_missing", train_size=64)
>>> inputs, labels, masks = next(iter(load_split(spec, "train", spec.tasks, "tfds_data", 8)))
>>> inputs["image"].shape, labels["present"].shape
(TensorShape([8, 32, 32, 3]), TensorShape([8, 4]))
"""

import dataclasses

import numpy as np
import tensorflow_datasets as tfds

from data.offline_builder import OfflineBuilder, ParamsConfig
from data.dataset_spec import DatasetSpec
from data.options import GENERATOR_SEED, TEST_SIZE, TRAIN_SIZE, VALIDATION_SIZE
from inputs import InputSpec
from tasks import Task
from utils.arguments import Arg, arguments

SHAPES = ("circle", "square", "triangle", "diamond")
COLORS = {"red": (230, 40, 40), "green": (40, 200, 60), "blue": (50, 80, 235),
          "yellow": (235, 220, 40), "magenta": (220, 50, 220), "cyan": (40, 220, 220)}
MAIN_RADIUS = (0.15, 0.30)       # fraction of the image side
DISTRACTOR_RADIUS = (0.06, 0.11)  # always smaller than the main object

TASKS = (
    Task("shape", "multiclass", SHAPES),
    Task("color", "multiclass", tuple(COLORS)),
    Task("size", "regression"),
    Task("present", "multilabel", SHAPES),
    Task("filled", "binary", ("outline", "filled")),
)


def shape_mask(kind, yy, xx, cy, cx, r):
    """Boolean mask of one shape of radius `r` (pixels) centred at (cy, cx)."""
    dy, dx = yy - cy, xx - cx
    if kind == "circle":
        return dx * dx + dy * dy <= r * r
    if kind == "square":
        # 0.8 r half-side gives a square about the circle's area.
        return np.maximum(np.abs(dx), np.abs(dy)) <= 0.8 * r
    if kind == "diamond":
        return np.abs(dx) + np.abs(dy) <= 1.15 * r
    # triangle pointing up: apex at -r, base at +0.7 r
    return (dy <= 0.7 * r) & (dy >= -r) & (np.abs(dx) <= 0.62 * (dy + r))


def draw_object(canvas, kind, color, cy, cx, r, filled):
    side = canvas.shape[0]
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32) + 0.5
    mask = shape_mask(kind, yy, xx, cy, cx, r)
    if not filled:
        # Outline width ~30% of the radius, at least one pixel.
        mask &= ~shape_mask(kind, yy, xx, cy, cx, max(r - max(1.0, 0.3 * r), 0.0))
    canvas[mask] = color


def draw_example(rng, side):
    """One image and its full labels (none missing)."""
    canvas = np.empty((side, side, 3), np.float32)
    canvas[:] = rng.uniform(20, 90)  # grey background level
    present = np.zeros(len(SHAPES), np.int64)
    colors = list(COLORS.values())
    for _ in range(rng.integers(0, 3)):
        r = rng.uniform(*DISTRACTOR_RADIUS) * side
        kind = int(rng.integers(len(SHAPES)))
        cy, cx = rng.uniform(r, side - r, size=2)
        draw_object(canvas, SHAPES[kind], colors[rng.integers(len(colors))], cy, cx, r, True)
        present[kind] = 1
    size = rng.uniform(*MAIN_RADIUS)
    r = size * side
    kind, color = int(rng.integers(len(SHAPES))), int(rng.integers(len(colors)))
    filled = int(rng.integers(2))
    cy, cx = rng.uniform(r, side - r, size=2)
    draw_object(canvas, SHAPES[kind], colors[color], cy, cx, r, bool(filled))
    present[kind] = 1
    canvas += rng.normal(0, 6, size=canvas.shape)
    image = np.clip(np.rint(canvas), 0, 255).astype(np.uint8)
    return image, {"shape": kind, "color": color, "size": np.float32(size), "present": present,
                   "filled": filled}


def drop_labels(labels, rng, fraction):
    """Marks each task's label missing with probability `fraction` (-1 / NaN)."""
    if fraction <= 0:
        return labels
    labels = dict(labels)
    for task in TASKS:
        if rng.random() < fraction:
            labels[task.name] = task.missing_label()
    return labels


@dataclasses.dataclass(frozen=True)
class ShapesParams:
    image_size: int = 32
    train_size: int = 3000
    validation_size: int = 500
    test_size: int = 500
    missing_fraction: float = 0.0
    seed: int = 0


NAMED_PARAMS = {
    "small": ShapesParams(),
    "small_missing": ShapesParams(missing_fraction=0.25),
    "large": ShapesParams(image_size=64, train_size=20000, validation_size=2000, test_size=2000),
}


def config_name(params: ShapesParams) -> str:
    """`small` for a named parameter set, else a name spelling every parameter."""
    for name, named in NAMED_PARAMS.items():
        if named == params:
            return name
    p = params
    return (f"s{p.image_size}-n{p.train_size}.{p.validation_size}.{p.test_size}"
            f"-m{p.missing_fraction:g}-seed{p.seed}")


def make_config(params: ShapesParams) -> ParamsConfig:
    """A `multi_attribute_shapes` configuration: image size, split sizes, dropped labels, seed."""
    return ParamsConfig(name=config_name(params), params=params,
                        description=f"{params.image_size}px, {params.train_size} train images, "
                                    f"{params.missing_fraction:.0%} labels dropped.")


class MultiAttributeShapes(OfflineBuilder):
    """Procedural shapes with five attributes per image (see `data.multi_attribute_shapes`)."""

    VERSION = tfds.core.Version("1.0.0")
    BUILDER_CONFIGS = [make_config(p) for p in NAMED_PARAMS.values()]

    def _info(self):
        p = self.builder_config.params
        features = {
            "image": tfds.features.Image(shape=(p.image_size, p.image_size, 3)),
            "shape": tfds.features.Tensor(shape=(), dtype=np.int64),
            "color": tfds.features.Tensor(shape=(), dtype=np.int64),
            "size": tfds.features.Tensor(shape=(), dtype=np.float32),
            "present": tfds.features.Tensor(shape=(len(SHAPES),), dtype=np.int64),
            "filled": tfds.features.Tensor(shape=(), dtype=np.int64),
        }
        return self.generated_info(__doc__, features, TASKS)

    def _split_generators(self, dl_manager):
        p = self.builder_config.params
        sizes = {"train": p.train_size, "validation": p.validation_size, "test": p.test_size}
        return {split: self._generate_examples(split_index, count)
                for split_index, (split, count) in enumerate(sizes.items())}

    def _generate_examples(self, split_index, count):
        p = self.builder_config.params
        draw_rng = np.random.default_rng([p.seed, split_index, 0])
        drop_rng = np.random.default_rng([p.seed, split_index, 1])
        for i in range(count):
            image, labels = draw_example(draw_rng, p.image_size)
            yield i, {"image": image, **drop_labels(labels, drop_rng, p.missing_fraction)}


@arguments(config=Arg(str, "a named configuration", choices=("small", "small_missing", "large")),
           image_size=Arg(int, "image side in pixels; null: the config's", range="[8, inf)",
                          null=True),
           train_size=TRAIN_SIZE, validation_size=VALIDATION_SIZE, test_size=TEST_SIZE,
           missing_fraction=Arg(float,
                                "fraction of each task's labels dropped; null: the config's",
                                range="[0, 1)", null=True),
           seed=GENERATOR_SEED)
def multi_attribute_shapes(config: str = "small", image_size: int = None, train_size: int = None,
                           validation_size: int = None, test_size: int = None,
                           missing_fraction: float = None, seed: int = None):
    """Spec of `multi_attribute_shapes`: a named `config` with any parameter overridden.

    Named configs: `small` (32px, 3000/500/500), `small_missing` (the same with
    25% of each task's labels dropped), `large` (64px, 20000/2000/2000).
    """
    if config not in NAMED_PARAMS:
        raise ValueError(f"data.options.config: unknown config {config!r} for "
                         f"'multi_attribute_shapes'; valid configs: {', '.join(NAMED_PARAMS)}")
    overrides = {k: v for k, v in dict(image_size=image_size, train_size=train_size,
                                       validation_size=validation_size, test_size=test_size,
                                       missing_fraction=missing_fraction, seed=seed).items()
                 if v is not None}
    params = dataclasses.replace(NAMED_PARAMS[config], **overrides)
    if params.image_size < 8:
        raise ValueError(f"data.options.image_size: must be at least 8; got {params.image_size}")
    if not 0.0 <= params.missing_fraction < 1.0:
        raise ValueError("data.options.missing_fraction: must be in [0, 1); got "
                         f"{params.missing_fraction}")
    image = InputSpec("image", "image", shape=(params.image_size, params.image_size, 3),
                      dtype="uint8")
    return DatasetSpec(name="multi_attribute_shapes",
                       **MultiAttributeShapes.tfds_source(make_config(params)),
                       tasks=TASKS, inputs=(image,),
                       description="Procedural shapes: shape, colour, size, present, filled.")
