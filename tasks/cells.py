"""Label cells of a table read as numbers, and classes put in order.

Example:
>>> from tasks.cells import parse_number, sort_classes
>>> parse_number("2.5"), parse_number("inf"), parse_number("n/a")
(2.5, None, None)
>>> sort_classes({"10", "2", "1"}), sort_classes({"b", "a"})
(('1', '2', '10'), ('a', 'b'))
"""

import math


def parse_number(text):
    """A finite float, or None when `text` is not one."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def sort_classes(values):
    """Numeric-looking classes in numeric order ("2" < "10"), else alphabetical."""
    if all(parse_number(v) is not None for v in values):
        return tuple(sorted(values, key=lambda v: (parse_number(v), v)))
    return tuple(sorted(values))
