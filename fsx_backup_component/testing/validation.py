"""Request validation (and response checking) against botocore's own FSx service model.

The emulator must reject what AWS rejects, so constraints are read from the model instead of being
copied by hand: required members, string length, ``pattern``, enums, list length and integer ranges
(docs/emulator.md §0: violations come back as ``BadRequest`` with "N validation errors detected: ...").

botocore itself only checks ``required`` and ``min`` client-side (docs/emulator.md §10), so everything else
here is what makes an over-long token or a malformed ID fail like it would against the real service.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape

__all__ = [
    "service_model",
    "compile_model_pattern",
    "validate_input",
    "format_validation_errors",
    "check_output",
]


@functools.lru_cache(maxsize=1)
def service_model() -> ServiceModel:
    """The FSx model shipped with the installed botocore (loaded once; it is large)."""
    return botocore.session.get_session().get_service_model("fsx")


def operation_model(name: str) -> OperationModel | None:
    """The operation model, or None for names FSx does not have."""
    model = service_model()
    if name not in model.operation_names:
        return None
    return model.operation_model(name)


# --- pattern translation ----------------------------------------------------------------------
# The model's patterns are Java/ECMA flavoured. Python's ``re`` lacks ``\p{..}`` classes and rejects
# a global ``(?i)`` that is not at the very start, so those two constructs are rewritten; the rest of
# the model's syntax (lookarounds, ``\uXXXX``) is understood by ``re`` as is.


@functools.lru_cache(maxsize=1)
def _separator_chars() -> str:
    """Every Unicode ``Z*`` (separator) character, escaped for a character class.

    All of them live in the BMP, so scanning it is enough and takes a few milliseconds.
    """
    chars = (chr(cp) for cp in range(0x10000) if unicodedata.category(chr(cp)).startswith("Z"))
    return "".join(re.escape(c) for c in chars)


_CLASS_WITH_PROPERTY = re.compile(r"\[((?:\\.|[^\]\\])*?\\p\{[A-Z]\}(?:\\.|[^\]\\])*)\]")
_PROPERTY = re.compile(r"\\p\{([A-Z])\}")


def _rewrite_property_class(match: re.Match[str]) -> str:
    r"""Turn ``[\p{L}\p{Z}\p{N}rest]`` into an alternation ``re`` understands.

    ``[^\W_]`` is exactly "letter or number" in Python's Unicode ``re`` (``\w`` is ``isalnum()`` plus
    ``_``), which covers ``\p{L}`` + ``\p{N}``; ``\p{Z}`` becomes the explicit separator list.
    """
    body = match.group(1)
    props = set(_PROPERTY.findall(body))
    rest = _PROPERTY.sub("", body)
    unsupported = props - {"L", "N", "Z"}
    if unsupported:
        raise ValueError(f"unsupported Unicode property class(es): {sorted(unsupported)}")
    alternatives: list[str] = []
    if "L" in props and "N" in props:
        alternatives.append(r"[^\W_]")
    elif "L" in props:
        alternatives.append(r"[^\W\d_]")
    elif "N" in props:
        alternatives.append(r"\d")  # approximation (Nd only); the FSx model never uses \p{N} alone
    if "Z" in props:
        rest += _separator_chars()
    if rest:
        alternatives.append(f"[{rest}]")
    return "(?:" + "|".join(alternatives) + ")"


@functools.lru_cache(maxsize=None)
def compile_model_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a model ``pattern`` trait into a Python regular expression."""
    translated = _CLASS_WITH_PROPERTY.sub(_rewrite_property_class, pattern)
    if "(?i)" in translated:
        translated = "(?i)" + translated.replace("(?i)", "")
    return re.compile(translated)


def pattern_matches(pattern: str, value: str) -> bool:
    """Whether ``value`` satisfies a model ``pattern`` *as a whole* (``re.fullmatch``).

    Smithy calls its ``pattern`` trait unanchored, but AWS's Coral front end validates with a full
    match: DynamoDB, recorded by dynalite, refuses '89hls;;f;d' for its unanchored pattern
    ``[a-zA-Z0-9_.-]+`` ("Member must satisfy regular expression pattern"). That matters for
    ClientRequestToken (docs/emulator.md §1): its pattern ``[A-za-z0-9_.-]{0,63}$`` has no ``^``, so a search
    would accept any string; applied whole it admits 1..63 ASCII characters out of ``A-z`` (the model's
    typo, which also spans ``[\\]^_```), digits, ``_``, ``.`` and ``-`` -- the API reference's "a
    string of up to 63 ASCII characters". Full-match for FSx itself: UNCONFIRMED (the harsher choice).
    """
    return compile_model_pattern(pattern).fullmatch(value) is not None


# --- input validation -------------------------------------------------------------------------


def _camel(name: str) -> str:
    """AWS validation messages use lowerCamel member names ('fileSystemId')."""
    return name[:1].lower() + name[1:]


def _show(value: Any) -> str:
    return "null" if value is None else f"'{value}'"


def validate_input(shape: Shape | None, params: Any) -> list[str]:
    """All constraint violations of ``params`` against ``shape`` (empty list when valid)."""
    errors: list[str] = []
    if shape is not None:
        _validate_structure(shape, params, "", errors)
    return errors


def format_validation_errors(errors: list[str]) -> str:
    """AWS's wording: '1 validation error detected: ...' / 'N validation errors detected: a; b'."""
    noun = "error" if len(errors) == 1 else "errors"
    return f"{len(errors)} validation {noun} detected: " + "; ".join(errors)


def _violation(value: Any, path: str, constraint: str) -> str:
    return f"Value {_show(value)} at '{path}' failed to satisfy constraint: {constraint}"


def _validate(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    kind = shape.type_name
    if kind == "structure":
        _validate_structure(shape, value, path, errors)
    elif kind == "list":
        _validate_list(shape, value, path, errors)
    elif kind == "map":
        _validate_map(shape, value, path, errors)
    elif kind == "string":
        _validate_string(shape, value, path, errors)
    elif kind in ("integer", "long"):
        _validate_integer(shape, value, path, errors)
    elif kind == "boolean":
        if not isinstance(value, bool):
            errors.append(_violation(value, path, "Member must be a boolean"))
    elif kind in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.append(_violation(value, path, "Member must be a number"))
    # timestamps/blobs are never inputs of the operations the emulator implements


def _validate_structure(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    if not isinstance(value, dict):
        errors.append(_violation(value, path or "body", "Member must be a structure"))
        return
    prefix = f"{path}." if path else ""
    for name in shape.required_members:
        if value.get(name) is None:
            errors.append(_violation(None, prefix + _camel(name), "Member must not be null"))
    for name, member in shape.members.items():
        # Unknown members are ignored, like AWS JSON services do.
        if value.get(name) is not None:
            _validate(member, value[name], prefix + _camel(name), errors)


def _check_length(shape: Shape, value: Any, size: int, path: str, errors: list[str]) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        errors.append(_violation(value, path, f"Member must have length greater than or equal to {low}"))
    if high is not None and size > high:
        errors.append(_violation(value, path, f"Member must have length less than or equal to {high}"))


def _validate_list(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    if not isinstance(value, list):
        errors.append(_violation(value, path, "Member must be a list"))
        return
    _check_length(shape, value, len(value), path, errors)
    for index, item in enumerate(value, start=1):
        if item is None:
            errors.append(_violation(None, f"{path}.{index}.member", "Member must not be null"))
        else:
            _validate(shape.member, item, f"{path}.{index}.member", errors)


def _validate_map(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    if not isinstance(value, dict):
        errors.append(_violation(value, path, "Member must be a map"))
        return
    _check_length(shape, value, len(value), path, errors)
    for key, item in value.items():
        _validate(shape.key, key, f"{path}.key", errors)
        _validate(shape.value, item, f"{path}.{key}", errors)


def _validate_string(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    if not isinstance(value, str):
        errors.append(_violation(value, path, "Member must be a string"))
        return
    _check_length(shape, value, len(value), path, errors)
    enum = shape.metadata.get("enum")
    if enum and value not in enum:
        errors.append(_violation(value, path, f"Member must satisfy enum value set: [{', '.join(enum)}]"))
    pattern = shape.metadata.get("pattern")
    if pattern and not pattern_matches(pattern, value):
        errors.append(
            _violation(value, path, f"Member must satisfy regular expression pattern: {pattern}")
        )


def _validate_integer(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        errors.append(_violation(value, path, "Member must be an integer"))
        return
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and value < low:
        errors.append(_violation(value, path, f"Member must have value greater than or equal to {low}"))
    if high is not None and value > high:
        errors.append(_violation(value, path, f"Member must have value less than or equal to {high}"))


# --- output checking (used by the emulator's own tests to stop drift from the model) -----------


def check_output(shape: Shape, value: Any, path: str = "") -> list[str]:
    """Problems with ``value`` as an instance of output ``shape``: unknown members, wrong types,
    values outside enums, missing required members. Stricter than botocore's parser on purpose."""
    problems: list[str] = []
    _check(shape, value, path or shape.name, problems)
    return problems


def _check(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    kind = shape.type_name
    if kind == "structure":
        _check_structure(shape, value, path, problems)
    elif kind == "list":
        if not isinstance(value, list):
            problems.append(f"{path}: expected list, got {type(value).__name__}")
            return
        for index, item in enumerate(value):
            _check(shape.member, item, f"{path}[{index}]", problems)
    elif kind == "map":
        if not isinstance(value, dict):
            problems.append(f"{path}: expected map, got {type(value).__name__}")
    elif kind == "string":
        _check_string(shape, value, path, problems)
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{path}: expected integer, got {value!r}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected boolean, got {value!r}")
    elif kind in ("timestamp", "double", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{path}: expected number, got {value!r}")


def _check_structure(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    if not isinstance(value, dict):
        problems.append(f"{path}: expected structure, got {type(value).__name__}")
        return
    for name in value:
        if name not in shape.members:
            problems.append(f"{path}.{name}: member not in model shape {shape.name}")
    for name in shape.required_members:
        if name not in value:
            problems.append(f"{path}.{name}: required member missing")
    for name, item in value.items():
        if name in shape.members:
            _check(shape.members[name], item, f"{path}.{name}", problems)


def _check_string(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    if not isinstance(value, str):
        problems.append(f"{path}: expected string, got {value!r}")
        return
    enum = shape.metadata.get("enum")
    if enum and value not in enum:
        problems.append(f"{path}: {value!r} not in enum {enum}")
    pattern = shape.metadata.get("pattern")
    if pattern and not pattern_matches(pattern, value):
        problems.append(f"{path}: {value!r} does not match {pattern}")
