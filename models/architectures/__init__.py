"""Multi-task architectures; importing this package registers them all."""

from models.architectures import shared_bottom  # noqa: F401
