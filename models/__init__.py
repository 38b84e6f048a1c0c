"""The model zoo: multi-task Keras models with one named output per task.

Importing this package gives the architectures and encoders by name, and registers the
`MultiTaskModel` class needed to load `.keras` files. It does not import the dataset
builders (`data.registry`).
"""

from models.encoders import ENCODERS, list_encoders, make_encoder, register_encoder  # noqa: F401
from models.multitask_model import MultiTaskModel  # noqa: F401
from models.registry import get_architecture, list_architectures  # noqa: F401


def load_model(path):
    """Loads a `.keras` file saved by the trainer."""
    import keras
    return keras.saving.load_model(path, compile=False)
