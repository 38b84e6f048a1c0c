"""One registry shape for every name a config can pick: datasets, task kinds,
architectures, encoders, weighting methods, optimizers.

A `Registry` maps snake_case names to objects. `register` refuses a name taken by
another object; `get` on an unknown name raises a `ValueError` that names the
config key and lists the known names. A registry of built-in entries is given them
as an explicit table (`entries`) by the module that imports each implementation,
so no implementation imports the registry to register itself (no import circle).

Example:
>>> from utils.registry import Registry
>>> colours = Registry("colour", key="paint.colour")
>>> @colours.register("red")
... def red():
...     return "#f00"
>>> colours.get("red")()
'#f00'
>>> colours.get("blue")
Traceback (most recent call last):
...
ValueError: paint.colour: unknown colour 'blue'; known colours: red
"""


class Registry:
    """Names -> objects, with duplicate checks and helpful misses.

    Args:
        kind: str. What is registered, for messages ("architecture").
        key: str or None. The config key that picks a name ("model.architecture").
        plural: str or None. Plural of `kind` (default `kind + "s"`).
        entries: dict or None. The built-in entries, name -> object (the table of the
            module that imports each implementation).
    """

    def __init__(self, kind, key=None, plural=None, entries=None):
        self.kind = kind
        self.key = key
        self.plural = plural or f"{kind}s"
        self._entries = {}
        for name, obj in (entries or {}).items():
            self.register(name, obj)

    def register(self, name, obj=None):
        """`@registry.register("name")` decorator, or `registry.register("name", obj)`."""

        def add(value):
            current = self._entries.get(name)
            if current is not None and current is not value:
                raise ValueError(f"{self.kind} {name!r} is registered twice "
                                 f"({current!r} and {value!r})")
            self._entries[name] = value
            return value

        return add if obj is None else add(obj)

    def names(self):
        """Every registered name, sorted."""
        return sorted(self._entries)

    def __contains__(self, name):
        return name in self._entries

    def get(self, name):
        """The object registered as `name`; an unknown name lists the known ones."""
        if name not in self._entries:
            where = f"{self.key}: " if self.key else ""
            raise ValueError(f"{where}unknown {self.kind} {name!r}; known {self.plural}: "
                             f"{', '.join(self.names())}")
        return self._entries[name]

    def items(self):
        return sorted(self._entries.items())

    def make(self, owner, *args, **kwargs):
        """`cls(*args, **kwargs)` for the class registered as the kind in `(name, kind, ...)`
        (positional or keyword): the factories `Task(...)` and `InputSpec(...)`. An unknown
        kind names the object being made, `<owner> 'name': ...`, before the known kinds.

        >>> kinds = Registry("shape kind", key="kind", entries={"box": dict})
        >>> kinds.make("Shape", name="b", kind="box")
        {'name': 'b', 'kind': 'box'}
        >>> kinds.make("Shape", "c", "ball")
        Traceback (most recent call last):
        ...
        ValueError: Shape 'c': kind: unknown shape kind 'ball'; known shape kinds: box
        """
        kind = kwargs["kind"] if "kind" in kwargs else (args[1] if len(args) > 1 else None)
        try:
            cls = self.get(kind)
        except ValueError as e:
            name = kwargs.get("name", args[0] if args else "?")
            raise ValueError(f"{owner} {name!r}: {e}") from None
        return cls(*args, **kwargs)
