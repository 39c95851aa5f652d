"""The engine's property values on the wire (``google.protobuf.Struct``) <-> plain Python values, with
secrecy kept per top-level property. No Pulumi SDK runtime: the plugin answers Check, Diff and the
CRUD calls straight from the proto messages.

A secret is ``{SIG: SECRET_SIG, "value": v}``; an unknown is the string ``UNKNOWN`` (the sentinel the
core's ``eligibility.is_unknown`` already recognises). A resource reference or an output value is
read as its plain value (the plugin accepts outputs but needs only values).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from google.protobuf import json_format, struct_pb2

SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


@dataclass
class Props:
    """Plain values by top-level name, and the names whose value held a secret anywhere inside."""

    values: dict[str, Any] = field(default_factory=dict)
    secret: set[str] = field(default_factory=set)

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


def read(struct: struct_pb2.Struct | None) -> Props:
    """A Struct as plain values; every top-level key under which a secret was found is in ``secret``."""
    props = Props()
    if struct is None:
        return props
    raw = json_format.MessageToDict(struct)
    for key, value in raw.items():
        found = [False]
        props.values[key] = _plain(value, found)
        if found[0]:
            props.secret.add(key)
    return props


def _plain(value: Any, secret: list[bool]) -> Any:
    if isinstance(value, dict):
        sig = value.get(SIG)
        if sig == SECRET_SIG:
            secret[0] = True
            return _plain(value.get("value"), secret)
        if sig == OUTPUT_SIG:
            if value.get("secret"):
                secret[0] = True
            return _plain(value["value"], secret) if "value" in value else UNKNOWN
        if sig == RESOURCE_SIG:
            return value.get("id") or value.get("urn")
        return {k: _plain(v, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, secret) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        # Every number is a double on the wire: 3 must read back as the 3 a Python program sends, or
        # a trigger of 3 would derive other request tokens than on the dynamic path.
        return int(value)
    return value


def write(values: Mapping[str, Any], secret: Iterable[str] = ()) -> struct_pb2.Struct:
    """Plain values as a Struct, each key in ``secret`` wrapped as a secret. None values are dropped
    (the engine reads a missing property as null)."""
    secret = set(secret)
    struct = struct_pb2.Struct()
    payload: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        value = _jsonable(value)
        payload[key] = {SIG: SECRET_SIG, "value": value} if key in secret else value
    struct.update(payload)
    return struct


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return str(value)


def has_unknowns(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(has_unknowns(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknowns(v) for v in value)
    return isinstance(value, str) and value == UNKNOWN
