"""Optimizer registry: `train.optimizer` names -> factories of Keras optimizers.

Each factory takes the learning rate (`train.learning_rate`) and the optimizer's own
arguments (`train.optimizer_args`, declared below: `python train.py --list adam`);
their defaults are Keras's.

Example:
>>> from training.optimizers import make_optimizer
>>> optimizer = make_optimizer("sgd", 0.1, {"momentum": 0.9})
>>> type(optimizer).__name__, round(float(optimizer.momentum), 2)
('SGD', 0.9)
"""

import keras

from utils.arguments import Arg, arguments
from utils.registry import Registry

OPTIMIZERS = Registry("optimizer", key="train.optimizer")

# Arguments several optimizers take, declared once (the static reader reads these
# constants: keep them literal `Arg(...)` calls).
BETA_1 = Arg(float, "decay rate of the first-moment estimates", range="[0, 1)")
BETA_2 = Arg(float, "decay rate of the second-moment estimates", range="[0, 1)")
EPSILON = Arg(float, "added to the denominator for numerical stability", range="(0, inf)")
AMSGRAD = Arg(bool, "the AMSGrad variant")
MOMENTUM = Arg(float, "momentum", range="[0, 1)")
CLIPNORM = Arg(float, "clip each gradient to this norm; null: no clipping", range="(0, inf)",
               null=True)


def register_optimizer(name):
    return OPTIMIZERS.register(name)


@register_optimizer("adam")
@arguments(beta_1=BETA_1, beta_2=BETA_2, epsilon=EPSILON, amsgrad=AMSGRAD, clipnorm=CLIPNORM)
def adam(learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, clipnorm=None):
    return keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                                 amsgrad=amsgrad, clipnorm=clipnorm)


@register_optimizer("adamw")
@arguments(weight_decay=Arg(float, "decoupled weight decay", range="[0, inf)"),
           beta_1=BETA_1, beta_2=BETA_2, epsilon=EPSILON, amsgrad=AMSGRAD, clipnorm=CLIPNORM)
def adamw(learning_rate, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
          amsgrad=False, clipnorm=None):
    return keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay, beta_1=beta_1,
                                  beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad,
                                  clipnorm=clipnorm)


@register_optimizer("rmsprop")
@arguments(rho=Arg(float, "decay rate of the squared-gradient average", range="[0, 1)"),
           momentum=MOMENTUM, epsilon=EPSILON,
           centered=Arg(bool, "normalise by the gradient's estimated variance"),
           clipnorm=CLIPNORM)
def rmsprop(learning_rate, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, clipnorm=None):
    return keras.optimizers.RMSprop(learning_rate, rho=rho, momentum=momentum, epsilon=epsilon,
                                    centered=centered, clipnorm=clipnorm)


@register_optimizer("sgd")
@arguments(momentum=MOMENTUM, nesterov=Arg(bool, "Nesterov momentum"), clipnorm=CLIPNORM)
def sgd(learning_rate, momentum=0.0, nesterov=False, clipnorm=None):
    return keras.optimizers.SGD(learning_rate, momentum=momentum, nesterov=nesterov,
                                clipnorm=clipnorm)


def list_optimizers():
    return OPTIMIZERS.names()


def make_optimizer(name, learning_rate, args=None):
    """A fresh optimizer `name` with `learning_rate` and its `args` (`train.optimizer_args`,
    checked at config load); create it under the strategy scope."""
    return OPTIMIZERS.get(name)(learning_rate, **(args or {}))
