"""Checking config-given keyword arguments against a function's signature, names and types.

Architectures, encoders and weighting methods take their arguments from free-form
config mappings (`model.args`, `model.encoder_args`, `train.weighting_args`).
`check_arguments` fails at config load, before any data or model is built, on an
unknown name (listing the valid ones) and on a value of the wrong type. The type
of a parameter is its annotation when it has one, else the type of its default:
an `int` default takes integers only (`2.9` experts is an error, not 2), a
`float` default takes any number, a list/tuple default a list (of numbers when
the default holds numbers), a `bool` default true/false, a `dict` default a
mapping, a `str` default a string; a `None` default without annotation takes
anything.

Example:
>>> from utils.arguments import check_arguments
>>> def mmoe(features, num_experts=4, expert_units=(64,), dropout=0.0): ...
>>> check_arguments(mmoe, {"num_experts": 3, "dropout": 1}, "model.args", skip=("features",))
>>> check_arguments(mmoe, {"num_experts": 2.9}, "model.args", skip=("features",))
Traceback (most recent call last):
...
utils.arguments.ArgumentError: model.args.num_experts: expected an integer, got 2.9 (float)
"""

import inspect
import numbers
import typing


class ArgumentError(ValueError):
    pass


def _describe(expected):
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string",
            list: "a list", dict: "a mapping"}.get(expected, getattr(expected, "__name__", str(expected)))


def _matches(value, expected):
    if expected is bool:
        return isinstance(value, bool)
    if expected is int:
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if expected is float:
        return isinstance(value, numbers.Real) and not isinstance(value, bool)
    if expected is str:
        return isinstance(value, str)
    if expected is list:
        return isinstance(value, (list, tuple))
    if expected is dict:
        return isinstance(value, dict)
    return True


def _from_annotation(annotation):
    """(type, element type, optional) from an annotation such as Optional[Sequence[int]]."""
    optional = False
    origin = typing.get_origin(annotation)
    if origin is typing.Union:
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(options) < len(typing.get_args(annotation))
        if len(options) != 1:
            return None, None, optional
        annotation = options[0]
        origin = typing.get_origin(annotation)
    if origin in (list, tuple, typing.Sequence) or annotation in (list, tuple):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        return list, (args[0] if args else None), optional
    if origin is dict or annotation is dict:
        return dict, None, optional
    if annotation in (int, float, bool, str):
        return annotation, None, optional
    return None, None, optional


def parameter_type(param):
    """(type, element type, optional) of one parameter, or (None, None, True): anything."""
    if param.annotation is not inspect.Parameter.empty:
        return _from_annotation(param.annotation)
    default = param.default
    if default is inspect.Parameter.empty or default is None:
        return None, None, True
    if isinstance(default, bool):
        return bool, None, False
    if isinstance(default, numbers.Integral):
        return int, None, False
    if isinstance(default, numbers.Real):
        return float, None, False
    if isinstance(default, str):
        return str, None, False
    if isinstance(default, (list, tuple)):
        kinds = {int if isinstance(v, numbers.Integral) and not isinstance(v, bool) else
                 float if isinstance(v, numbers.Real) and not isinstance(v, bool) else None
                 for v in default}
        element = kinds.pop() if len(kinds) == 1 else None
        return list, element, False
    if isinstance(default, dict):
        return dict, None, False
    return None, None, True


def check_value(value, param, where):
    """Raises ArgumentError when `value` does not fit parameter `param`."""
    expected, element, optional = parameter_type(param)
    if value is None:
        if optional or expected is None:
            return
        raise ArgumentError(f"{where}: expected {_describe(expected)}, got null")
    if expected is None:
        return
    if not _matches(value, expected):
        raise ArgumentError(f"{where}: expected {_describe(expected)}, got {value!r} "
                            f"({type(value).__name__})")
    if expected is list and element in (int, float):
        for i, v in enumerate(value):
            if not _matches(v, element):
                raise ArgumentError(f"{where}[{i}]: expected {_describe(element)}, got {v!r} "
                                    f"({type(v).__name__})")


def check_arguments(fn, args, key, skip=(), what=None):
    """Checks `args` (a mapping) against the keyword parameters of `fn`.

    Args:
        fn: callable. Its signature lists the valid names.
        args: dict. The arguments given.
        key: str. The config key holding them, for messages ("model.args").
        skip: iterable of str. Parameters not given from the config.
        what: str or None. Names the owner in the unknown-argument message
            ("architecture 'mmoe'").
    """
    if args is None:
        return
    if not isinstance(args, dict):
        raise ArgumentError(f"{key}: expected a mapping, got {args!r}")
    params = {n: p for n, p in inspect.signature(fn).parameters.items()
              if n not in skip and n != "self"
              and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    unknown = sorted(set(args) - set(params))
    if unknown:
        owner = f" for {what}" if what else ""
        raise ArgumentError(f"{key}: unknown argument(s) {unknown}{owner}; valid: "
                            f"{', '.join(params) or '(none)'}")
    for name, value in args.items():
        check_value(value, params[name], f"{key}.{name}")
