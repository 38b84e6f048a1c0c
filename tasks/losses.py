"""Per-example losses from logits that several kinds share (TensorFlow, imported lazily).

Example:
>>> import numpy as np
>>> from tasks.losses import sigmoid_loss
>>> logit = np.log(9.0).astype("float32")                 # sigmoid(logit) = 0.9
>>> round(float(sigmoid_loss(np.array([[1.0]]), np.array([[logit]]))[0]), 4)  # -log(0.9)
0.1054
"""

from utils.arguments import Arg, Declaration
from utils.lazy import LazyModule

tf = LazyModule("tensorflow")


def labels_like(y_true, y):
    """Labels as float32 shaped like the predictions (or logits) `y`."""
    return tf.cast(tf.reshape(y_true, tf.shape(y)), tf.float32)


def sigmoid_loss(y_true, logits, options=None):
    """Sigmoid cross-entropy from logits, averaged over the labels of each example.

    `options` (`train.loss_options` of the task): `pos_weight` (a number, or one per
    label) multiplies the positive term, `focal_gamma` > 0 multiplies each term by
    `(1 - p_t)^gamma` (the focal loss of Lin et al., ICCV 2017) to focus on hard
    examples."""
    options = options or {}
    logits = tf.cast(logits, tf.float32)
    y = labels_like(y_true, logits)
    if options.get("pos_weight") is not None:
        loss = tf.nn.weighted_cross_entropy_with_logits(
            y, logits, tf.constant(options["pos_weight"], tf.float32))
    else:
        loss = tf.nn.sigmoid_cross_entropy_with_logits(y, logits)
    if options.get("focal_gamma"):
        p = tf.sigmoid(logits)
        p_true = y * p + (1.0 - y) * (1.0 - p)
        loss *= tf.pow(1.0 - p_true, float(options["focal_gamma"]))
    return tf.reduce_mean(loss, axis=-1)


def softmax_loss(y_true, logits, options=None):
    """Softmax cross-entropy from logits, one label per row of logits (`[batch]`, or
    `[batch, tokens]` for token tasks); `class_weights` (one per class) multiplies each
    example's loss by its class's weight, `focal_gamma` by `(1 - p_true)^gamma`."""
    options = options or {}
    logits = tf.cast(logits, tf.float32)
    labels = tf.cast(tf.reshape(y_true, tf.shape(logits)[:-1]), tf.int32)
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
    if options.get("focal_gamma"):
        p_true = tf.exp(-loss)
        loss *= tf.pow(1.0 - p_true, float(options["focal_gamma"]))
    if options.get("class_weights") is not None:
        loss *= tf.gather(tf.constant(options["class_weights"], tf.float32), labels)
    return loss



# The loss options kinds declare (`train.loss_options.<task>`), shared by the kinds that take them.
POS_WEIGHT = Arg((float, list), "multiplies the positive term (a number, or one per label)",
                 item=float, range="[0, inf)", null=True, default=None)
FOCAL_GAMMA = Arg(float, "the focal loss's gamma: (1 - p_t)^gamma focuses on hard examples "
                  "(0: plain)", range="[0, inf)", null=True, default=None)
CLASS_WEIGHTS = Arg(list, "one weight per class, multiplying its examples' loss",
                    item=float, range="[0, inf)", null=True, default=None)
SIGMOID_OPTIONS = Declaration({"pos_weight": POS_WEIGHT, "focal_gamma": FOCAL_GAMMA})
SOFTMAX_OPTIONS = Declaration({"class_weights": CLASS_WEIGHTS, "focal_gamma": FOCAL_GAMMA})
