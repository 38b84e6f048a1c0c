"""TFDS catalogue datasets as multi-task data: a task map per dataset, no builder of ours.

Each function below names a catalogue dataset's input image and maps its
label features to tasks (the TFDS feature is the task's `label_key`):

- `celeb_a`: the 40 binary face attributes (`five_o_clock_shadow`, ...,
  `young`); images 218x178x3, resized inside the model (option `resize`).
- `smallnorb`: `category` (5), `instance` (10), `elevation` (9), `azimuth`
  (18), `lighting` (6), all multiclass, from the left camera image (96x96x1).
- `shapes3d`: `floor_hue`, `wall_hue`, `object_hue` (10 each), `scale` (8),
  `shape` (4) multiclass and `orientation` regression (degrees, -30 to 30).
- `dsprites`: `shape` (3), `scale` (6), `orientation` (40) multiclass and
  `x_position`, `y_position` regression (0-1); images are 0/1 (`max_value=1`).

They download on first use (`data_dir` as usual), which needs internet access
(and, for `celeb_a`, a manual download step described by TFDS). Datasets with
only a train split (`shapes3d`, `dsprites`) are split 80/10/10; `smallnorb`'s
validation split is the last 10% of train. Their image preprocessing lives in
the model, so a served model takes the images exactly as TFDS yields them.

Example (offline, with random mock examples):
>>> import data, tensorflow_datasets as tfds
>>> from data.pipeline import load_split
>>> spec = data.get_dataset("smallnorb")
>>> with tfds.testing.mock_data(num_examples=8):
...     inputs, labels, masks = next(iter(load_split(spec, "train", spec.tasks, "tfds_data", 4)))
>>> sorted(labels)
['azimuth', 'category', 'elevation', 'instance', 'lighting']
"""

from data.dataset_spec import DatasetSpec
from inputs import InputSpec
from tasks import Task
from utils.arguments import Arg, arguments


# The attribute names of CelebA's list_attr_celeba.txt (as TFDS names its features).
CELEB_A_ATTRIBUTES = (
    "5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips Big_Nose "
    "Black_Hair Blond_Hair Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin Eyeglasses Goatee "
    "Gray_Hair Heavy_Makeup High_Cheekbones Male Mouth_Slightly_Open Mustache Narrow_Eyes "
    "No_Beard Oval_Face Pale_Skin Pointy_Nose Receding_Hairline Rosy_Cheeks Sideburns Smiling "
    "Straight_Hair Wavy_Hair Wearing_Earrings Wearing_Hat Wearing_Lipstick Wearing_Necklace "
    "Wearing_Necktie Young").split()

TRAIN_ONLY_SPLITS = {"train": "train[:80%]", "validation": "train[80%:90%]",
                     "test": "train[90%:]"}

# The options every dataset of the catalogue takes (read by the static reader: literal Args).
RESIZE = Arg(list, "[height, width] the model resizes images to; null: as stored", item=int,
             range="[1, inf)", length="[2, 2]", null=True)
CACHE = Arg(bool, "keep decoded examples in memory")


def attribute_task_name(attribute):
    """`5_o_Clock_Shadow` -> `five_o_clock_shadow`: task names must be identifiers."""
    name = attribute.lower()
    return "five" + name[1:] if name.startswith("5") else name


def numbered(count, start=0, step=1):
    return tuple(str(start + step * i) for i in range(count))


def image_spec(shape, max_value=255.0, resize=None):
    return InputSpec("image", "image", shape=shape, dtype="uint8", max_value=max_value,
                     resize=tuple(resize or ()))


def check_resize(resize):
    if resize is not None and (len(resize) != 2 or min(resize) < 1):
        raise ValueError(f"data.options.resize: must be [height, width] or null; got {resize}")
    return resize


@arguments(resize=RESIZE, cache=CACHE)
def celeb_a(resize=(64, 64), cache: bool = False):
    """CelebA's 40 binary attributes; images resized to `resize` inside the model."""
    tasks = tuple(Task(attribute_task_name(a), "binary", label_key=f"attributes/{a}")
                  for a in CELEB_A_ATTRIBUTES)
    return DatasetSpec(name="celeb_a", tfds_name="celeb_a", tasks=tasks,
                       inputs=(image_spec((218, 178, 3), resize=check_resize(resize)),),
                       splits={"train": "train", "validation": "validation", "test": "test"},
                       cache=cache, description="CelebA faces, 40 binary attributes (TFDS).")


@arguments(resize=RESIZE, cache=CACHE)
def smallnorb(resize=None, cache: bool = True):
    """smallNORB: category, instance, elevation, azimuth, lighting (left camera image)."""
    tasks = (
        Task("category", "multiclass", ("four_legged_animals", "human_figures", "airplanes",
                                        "trucks", "cars"), label_key="label_category"),
        Task("instance", "multiclass", numbered(10)),
        Task("elevation", "multiclass", numbered(9, 30, 5), label_key="label_elevation"),
        Task("azimuth", "multiclass", numbered(18, 0, 20), label_key="label_azimuth"),
        Task("lighting", "multiclass", numbered(6), label_key="label_lighting"),
    )
    return DatasetSpec(name="smallnorb", tfds_name="smallnorb", tasks=tasks,
                       inputs=(image_spec((96, 96, 1), resize=check_resize(resize)),),
                       splits={"train": "train[:90%]", "validation": "train[90%:]",
                               "test": "test"},
                       cache=cache, description="smallNORB toys: 5 factors (TFDS).")


@arguments(resize=RESIZE, cache=CACHE)
def shapes3d(resize=None, cache: bool = False):
    """3D Shapes: hues, scale and shape as classes; orientation (degrees) as regression."""
    tasks = (
        Task("floor_hue", "multiclass", numbered(10), label_key="label_floor_hue"),
        Task("wall_hue", "multiclass", numbered(10), label_key="label_wall_hue"),
        Task("object_hue", "multiclass", numbered(10), label_key="label_object_hue"),
        Task("scale", "multiclass", numbered(8), label_key="label_scale"),
        Task("shape", "multiclass", ("cube", "cylinder", "sphere", "capsule"),
             label_key="label_shape"),
        Task("orientation", "regression", label_key="value_orientation"),
    )
    return DatasetSpec(name="shapes3d", tfds_name="shapes3d", tasks=tasks,
                       inputs=(image_spec((64, 64, 3), resize=check_resize(resize)),),
                       splits=dict(TRAIN_ONLY_SPLITS), cache=cache,
                       description="3D Shapes: 6 factors (TFDS).")


@arguments(resize=RESIZE, cache=CACHE)
def dsprites(resize=None, cache: bool = False):
    """dSprites: shape, scale, orientation as classes; x and y position as regression.

    Orientation classes are ambiguous for symmetric shapes (a square repeats
    every 90 degrees), as in the source data.
    """
    tasks = (
        Task("shape", "multiclass", ("square", "ellipse", "heart"), label_key="label_shape"),
        Task("scale", "multiclass", numbered(6), label_key="label_scale"),
        Task("orientation", "multiclass", numbered(40), label_key="label_orientation"),
        Task("x_position", "regression", label_key="value_x_position"),
        Task("y_position", "regression", label_key="value_y_position"),
    )
    # dSprites pixels are 0/1, not 0-255.
    return DatasetSpec(name="dsprites", tfds_name="dsprites", tasks=tasks,
                       inputs=(image_spec((64, 64, 1), max_value=1.0,
                                          resize=check_resize(resize)),),
                       splits=dict(TRAIN_ONLY_SPLITS), cache=cache,
                       description="dSprites: 5 factors (TFDS).")
