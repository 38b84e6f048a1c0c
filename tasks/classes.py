"""What the kinds whose labels are classes share (`binary`, `multiclass`, `multilabel`,
`token_multiclass`): class-name checks, the head, label cells read as class indices,
class names served as strings, and the `classes`/`scores` of a classify signature.

Example:
>>> from tasks import Task
>>> task = Task("plan", "multiclass", ("basic", "pro", "team"))
>>> task.index_labels(str.lower, ["Pro", None, "team"], where=str)
array([ 1, -1,  2])
"""

import numpy as np

from tasks.base import TaskKind
from utils.lazy import LazyModule

tf = LazyModule("tensorflow")
keras = LazyModule("keras")


class ClassTask(TaskKind):
    """Shared by kinds whose labels are class indices (or one 0/1 per class)."""

    label_shape = ()
    label_dtype = "int64"
    min_classes = 2
    uncertainty_scale = 1.0  # a classification (softmax or sigmoid) likelihood
    label_options = ()

    def check_classes(self, classes):
        if len(classes) < self.min_classes:
            raise ValueError(f"Task {self.name!r} ({self.kind}) needs at least "
                             f"{self.min_classes} class names.")
        if len(set(classes)) != len(classes):
            raise ValueError(f"Task {self.name!r}: duplicate class names in {list(classes)}")
        return classes

    def check_target_statistics(self):
        raise ValueError(f"Task {self.name!r} ({self.kind}): target_mean/target_std are for "
                         "kinds that standardise their targets (regression).")

    def with_label_statistics(self, labels, counts=None):
        return self  # classes have no target statistics

    def missing_label(self):
        return np.int64(-1)

    def make_head(self):
        return (keras.layers.Dense(self.num_outputs, name=f"{self.name}_logits", dtype="float32"),
                keras.layers.Activation(self.activation, name=self.name, dtype="float32"))

    def metric_higher_is_better(self, metric):
        return metric != "loss"  # accuracy, AUC, F1, precision, recall

    def index_labels(self, canonical, texts, where):
        """Class indices of cell texts (`canonical(text)` names the class; -1 missing)."""
        index = {c: i for i, c in enumerate(self.classes)}
        out = np.full(len(texts), -1, np.int64)
        for i, text in enumerate(texts):
            if text is None:
                continue
            value = canonical(text)
            if value not in index:
                raise ValueError(f"{where(i)}: unknown class {text!r}; classes: "
                                 f"{', '.join(self.classes)}")
            out[i] = index[value]
        return out

    def class_names(self, indices):
        """Class indices -> their names (a string tensor): the `<task>_label` output."""
        return tf.gather(tf.constant(list(self.classes)), indices)

    def signature_outputs(self, y):
        scores = self.class_scores(y)
        classes = tf.tile(tf.constant([list(self.classes)]), [tf.shape(scores)[0], 1])
        return {"classes": classes, "scores": scores}

    def class_scores(self, y):
        """[batch, classes] scores of the classify signature."""
        return tf.cast(y, "float32")
