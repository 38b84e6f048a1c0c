"""`TaskKind`: the members every task kind must have, declared in one place.

A task kind (`binary`, `multiclass`, ...) is one class, a subclass of `TaskKind`;
`tasks.Task(name, kind, ...)` returns an instance of the kind's class. Everything that
depends on the kind is a member of that class, so no code outside this layer asks
which kind a task is: it asks the task (`task.make_head()`, `task.signature_method`,
`isinstance(task, BinaryTask)` where a model needs one sigmoid unit).

The members, by who uses them:

- declaration: `check_classes`, `check_target_statistics`, `num_outputs` (head width);
- data: `label_shape`, `label_dtype`, `missing_label()`, `encode_label` (a clean label
  and a 0/1 mask), `with_label_statistics` (target statistics of the training labels);
  CSV label cells: `label_options`, `classes_from_text`, `labels_from_text`;
- model: `make_head` (`<task>_logits` and the output layer `<task>`),
  `per_example_loss(labels, logits, options)` (from logits; `options` are the task's
  `train.loss_options`, the `loss_options` declaration says which it takes), `uncertainty_scale`;
- metrics: `metric_names`, `make_metrics`, `update_metrics`, `exact_metrics`,
  `primary_metric`, `metric_higher_is_better` (the direction of a monitored metric);
- serving: `serving_outputs`, `signature_method` (classify, regress or None),
  `signature_outputs`;
- tests and synthetic data: `sample_labels`, `labels_from_scores`.

Every member is abstract: a new kind states each of them (a test checks that every
registered kind keeps the signatures declared here). This module and the kind modules
import without TensorFlow (`utils.lazy`), so dataset declarations and config checks
stay quick.

Example:
>>> from tasks.base import TaskKind
>>> sorted(TaskKind.__abstractmethods__)[:4]
['check_classes', 'check_target_statistics', 'classes_from_text', 'encode_label']
"""

import abc
import dataclasses
from typing import Optional, Tuple

from utils.arguments import ArgumentError, check


@dataclasses.dataclass(frozen=True)
class TaskKind(abc.ABC):
    """One prediction target of a multi-task dataset; subclassed once per kind.

    Args:
        name: str. The task's name, used as head name, output key, label key,
            metric prefix and serving output name. snake_case.
        kind: str. The registered kind (`tasks.list_kinds()`), as configs store it.
        classes: tuple of str. Class names (`multiclass`), label names
            (`multilabel`) or the negative/positive names (`binary`, default
            `("no", "yes")`). Empty for `regression`.
        label_key: str. The feature (a "/"-separated path for nested TFDS
            features) that holds the label; defaults to `name`.
        target_mean: float or None. Training mean of the label, for kinds that
            standardise their targets (`regression`): the loss sees
            `(label - target_mean) / target_std`, the output layer undoes it, so
            outputs and metrics are in the label's own units. None: no scaling.
        target_std: float or None. Training standard deviation of the label (> 0).
        auxiliary: bool. An auxiliary task (`data.auxiliary_tasks`): trained, weighted
            and reported like any task, but only to help the others: left out of the
            exported signatures and served outputs, of Δm and of study leaderboards.
    """

    name: str
    kind: str
    classes: Tuple[str, ...] = ()
    label_key: Optional[str] = None
    target_mean: Optional[float] = None
    target_std: Optional[float] = None
    auxiliary: bool = False

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"Task name {self.name!r} must be a valid identifier (snake_case).")
        object.__setattr__(self, "classes", self.check_classes(tuple(str(c) for c in self.classes)))
        if self.label_key is None:
            object.__setattr__(self, "label_key", self.name)
        if self.target_mean is not None or self.target_std is not None:
            self.check_target_statistics()

    def to_config(self) -> dict:
        """The task as configs and saved models store it (`tasks.Task.from_config`)."""
        config = dataclasses.asdict(self)
        config["classes"] = list(self.classes)
        # Written only when set, so the configs of other kinds stay as they were.
        for key in ("target_mean", "target_std"):
            if config[key] is None:
                del config[key]
        if not config["auxiliary"]:
            del config["auxiliary"]
        return config

    def align(self, y_true, mask, y_pred):
        """(labels, mask) shaped for `y_pred` (the task's outputs or logits of one batch):
        as they are, for every kind whose labels the pipeline already shapes per example."""
        return y_true, mask

    def check_loss_options(self, options):
        """`options` (the task's `train.loss_options`) normalised; ArgumentError (a ValueError)
        naming the key when they do not fit this task: an option its kind does not take, a
        value that is not a number >= 0, or a per-class list of the wrong length."""
        where = f"train.loss_options.{self.name}"
        options = check(self.loss_options, options, where, what=f"a {self.kind} task")
        for key in ("class_weights", "pos_weight"):
            value = options.get(key)
            if isinstance(value, (list, tuple)) and len(value) != self.num_outputs:
                raise ArgumentError(f"{where}.{key}: {len(value)} values; valid: "
                                    f"{self.num_outputs} (one per class)")
        return options

    # --- declaration -------------------------------------------------------------------

    @abc.abstractmethod
    def check_classes(self, classes):
        """`classes` (a tuple of str) as this kind keeps them; ValueError when they do not fit."""

    @abc.abstractmethod
    def check_target_statistics(self):
        """Checks `target_mean`/`target_std` (given); ValueError for kinds without them."""

    @property
    @abc.abstractmethod
    def num_outputs(self) -> int:
        """Width of the head (units of `<task>_logits` per example, or per token)."""

    # --- labels as stored, and as the loss sees them -----------------------------------

    @property
    @abc.abstractmethod
    def label_shape(self) -> tuple:
        """Per-example shape of a stored label (`None` for a dimension of any size)."""

    @property
    @abc.abstractmethod
    def label_dtype(self) -> str:
        """numpy dtype name of a stored label."""

    @abc.abstractmethod
    def missing_label(self):
        """The stored value of a missing label (numpy)."""

    @abc.abstractmethod
    def encode_label(self, raw):
        """(label, mask) tensors from one stored label: a value the loss can take, and 1.0
        where the label is present, 0.0 where it is missing."""

    @abc.abstractmethod
    def with_label_statistics(self, labels, counts=None):
        """This task fitted to its training labels (an array as `labels_from_text` returns
        them, row i counted `counts[i]` times): kinds with target statistics return a copy
        holding them, the others the task itself."""

    @property
    @abc.abstractmethod
    def label_options(self) -> tuple:
        """Names of the extra options a CSV label declaration may give this kind."""

    @classmethod
    @abc.abstractmethod
    def classes_from_text(cls, values, column, **options):
        """The classes of a label column from its distinct cell texts `values` (column:
        the label's key, for messages; options: `label_options` and the CSV's multilabel
        `separator`/`none`)."""

    @abc.abstractmethod
    def labels_from_text(self, texts, where, **options):
        """Stored labels (numpy) of cell texts (None: a missing cell); `where(i)` names the
        cell of `texts[i]` in an error."""

    # --- model -------------------------------------------------------------------------

    @abc.abstractmethod
    def make_head(self):
        """(logits layer `<task>_logits`, output layer `<task>`): new Keras layers."""

    @abc.abstractmethod
    def per_example_loss(self, y_true, logits, options=None):
        """Loss per example (per token for token kinds) from logits; `options` the task's
        `train.loss_options` (a dict of the declared `loss_options`; None or {} for none)."""

    @property
    @abc.abstractmethod
    def loss_options(self):
        """The `train.loss_options` this kind's loss takes: a `utils.arguments.Declaration`
        ({option: Arg}; `python train.py --list <kind>` prints it)."""

    @property
    @abc.abstractmethod
    def uncertainty_scale(self) -> float:
        """Kendall et al.'s likelihood scale of the loss in uncertainty weighting: 1 for a
        classification likelihood (exp(-s) L), 0.5 for a Gaussian one (0.5 exp(-s) L)."""

    # --- metrics -----------------------------------------------------------------------

    @property
    @abc.abstractmethod
    def metric_names(self) -> tuple:
        """The names of `make_metrics()`'s metrics, known without building them."""

    @abc.abstractmethod
    def make_metrics(self):
        """{metric name: new streaming Keras metric named `<task>_<metric>`}."""

    @abc.abstractmethod
    def update_metrics(self, metrics, y_true, y_pred, mask):
        """Feeds a batch of labels and outputs to `metrics`, weighted by the label mask."""

    @abc.abstractmethod
    def exact_metrics(self, y_true, y_pred, mask):
        """{metric: exact value} from whole numpy arrays, for metrics the streaming ones
        only approximate; {} when there are none."""

    @property
    @abc.abstractmethod
    def primary_metric(self) -> tuple:
        """(metric, higher is better): what ranks models on this task by default."""

    @abc.abstractmethod
    def metric_higher_is_better(self, metric):
        """Whether a higher value of `metric` (`loss` or one of `metric_names`) is better."""

    # --- serving -----------------------------------------------------------------------

    @abc.abstractmethod
    def serving_outputs(self, y):
        """{served output name: tensor} from the output layer's values `y`."""

    @property
    @abc.abstractmethod
    def signature_method(self) -> Optional[str]:
        """`classify`, `regress` or None: the TF Serving signature the export adds."""

    @abc.abstractmethod
    def signature_outputs(self, y):
        """The outputs of that signature: `classes`/`scores` (classify) or `outputs`."""

    # --- tests and synthetic data ------------------------------------------------------

    @abc.abstractmethod
    def sample_labels(self, n, rng, lengths=None):
        """`n` plausible labels, as the pipeline gives them (`lengths`: tokens per example,
        for kinds with a label per token)."""

    @abc.abstractmethod
    def labels_from_scores(self, score):
        """Stored labels from a [n, k] array of real scores (synthetic problems)."""
