"""hierarchical: tasks at their levels, lower towers feeding the next level."""

import pytest

from tests.models.helpers import build


def test_levels_and_feeding():
    model = build("hierarchical", {"task_levels": {"digit": 1, "big": 2, "tags": 3, "value": 3},
                                   "level_units": [8, 6, 4], "tower_units": [5]})
    # level 2 reads level 1 (8) and digit's tower (5); level 3 reads level 2 (6) and big's (5).
    assert model.get_layer("level2_input").output.shape == (None, 13)
    assert model.get_layer("level3_input").output.shape == (None, 11)
    assert model.get_layer("tower_tags_0").input.shape == (None, 4)


def test_default_levels_follow_task_order():
    model = build("hierarchical", {"level_units": 8, "tower_units": [4]})
    assert [f"level{i}" for i in range(1, 5)] == [
        layer.name for layer in model.layers if layer.name.startswith("level") and
        not layer.name.endswith("input")]


@pytest.mark.parametrize("levels, message", [  # and tests/models/test_build_errors.py
    ({"digit": 0, "big": 1, "tags": 1, "value": 1},
     "model.args.task_levels.digit: 0 is out of range; valid: a mapping to integers 1 to "
     "10000000"),
])
def test_bad_task_levels(levels, message):
    with pytest.raises(ValueError, match=message):
        build("hierarchical", {"task_levels": levels})
