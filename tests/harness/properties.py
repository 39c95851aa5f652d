"""Property values as the engine keeps them, and the engine's secret rule.

The harness keeps every property value in *wire form*: plain Python values (dict, list, str, float,
bool, None, ``pulumi.output.Unknown``) in which a secret is a secret wrapper
(``rpc.wrap_rpc_secret(v)``, i.e. ``{"4dabf18193072939515e22adb298388d":
"1b47061264138c4ac30d75fd1eb44270", "value": v}``) exactly where it sits on the wire, at any depth.
The SDK's own ``rpc.deserialize_properties`` cannot be used for this: it pushes a nested secret's
secretness up to the enclosing list or map, which the engine does not do (it keeps the secret where it
is, and a state file encrypts only that value).

The secret rule (pulumi/pulumi ``pkg/resource/plugin/provider_plugin.go``):

* a provider that answers ``Configure`` with ``acceptSecrets: false`` (the Python dynamic host,
  ``pulumi/dynamic/__main__.py``) gets every property with its secrets removed
  (``MarshalOptions{KeepSecrets: protocol.acceptSecrets}`` in Check, Diff, Create, Read, Update,
  Delete);
* what it answers is re-annotated with ``annotateSecrets(outs, ins)``: Check's inputs from the
  program's inputs, Create's outputs from the checked inputs, Update's from the new inputs, Read's new
  state from the old state and its new inputs from the old inputs. Only a key of the *same name*
  inherits secretness (both objects: recursively; otherwise the whole value becomes secret when the
  input value contains a secret anywhere);
* then ``pkg/resource/deploy/step_executor.go`` (``continueExecuteStep``) marks every key listed in the
  resource's ``additionalSecretOutputs`` secret (``id`` refused with a warning) and every output whose
  same-named input is itself a secret.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping, Optional

from google.protobuf import struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import rpc

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


# ---------------------------------------------------------------------------------------------
# wire form <-> protobuf


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value == rpc.UNKNOWN:
        return Unknown()
    if isinstance(value, struct_pb2.ListValue):
        return [_decode(v) for v in value]
    if isinstance(value, struct_pb2.Struct):
        if SIG_KEY in value:
            if value[SIG_KEY] == SECRET_SIG:
                return rpc.wrap_rpc_secret(_decode(value["value"]))
            # assets, archives, resource references: as the SDK decodes them
            return rpc.deserialize_properties(value, keep_unknowns=True)
        decoded = {k: _decode(v) for k, v in value.items()}
        return {k: v for k, v in decoded.items() if v is not None}  # as the SDK: None = absent
    return value


def decode(struct: struct_pb2.Struct) -> dict[str, Any]:
    """A properties Struct in wire form: secrets stay wrapped where they are, unknowns are
    ``Unknown`` instances."""
    result = _decode(struct)
    return result if isinstance(result, dict) else {}


def encode(props: Mapping[str, Any]) -> struct_pb2.Struct:
    """Wire form -> Struct (``rpc.serialize_properties``: a secret wrapper is the secret encoding,
    ``Unknown`` the unknown sentinel)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(dict(props), {}))
    finally:
        loop.close()


# ---------------------------------------------------------------------------------------------
# secrets


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def secret(value: Any) -> Any:
    return value if is_secret(value) else rpc.wrap_rpc_secret(value)


def plain(value: Any) -> Any:
    """``value`` with every secret unwrapped: what the engine sends to a provider that does not
    accept secrets (``KeepSecrets: false``)."""
    if is_secret(value):
        return plain(value["value"])
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def contains_secrets(value: Any) -> bool:
    if is_secret(value):
        return True
    if isinstance(value, dict):
        return any(contains_secrets(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_secrets(v) for v in value)
    return False


def top_level_secret_keys(props: Mapping[str, Any]) -> set[str]:
    return {k for k, v in props.items() if is_secret(v)}


def _is_object(value: Any) -> bool:
    return isinstance(value, dict) and SIG_KEY not in value


def annotate_secrets(outs: Optional[dict[str, Any]], ins: Optional[Mapping[str, Any]]) -> None:
    """``annotateSecrets(outs, ins)`` of pkg/resource/plugin/provider_plugin.go, in place: a key
    present in both inherits the input's secretness; two objects recursively, anything else whole."""
    if outs is None or ins is None:
        return
    for key, in_value in ins.items():
        if key not in outs:
            continue
        out_value = outs[key]
        if _is_object(out_value) and _is_object(in_value):
            annotate_secrets(out_value, in_value)
        elif not is_secret(out_value) and contains_secrets(in_value):
            outs[key] = secret(out_value)


def step_secret_outputs(
    outputs: dict[str, Any], inputs: Mapping[str, Any], additional_secret_outputs: Iterable[str]
) -> list[str]:
    """What pkg/resource/deploy/step_executor.go (``continueExecuteStep``) does to a step's new
    state, in place: ``additionalSecretOutputs`` keys made secret, then every output whose same-named
    input is a secret. Returns the warnings the engine prints."""
    warnings = []
    for key in additional_secret_outputs:
        if key == "id":
            warnings.append("The 'id' property cannot be made secret. See pulumi/pulumi#2717 for more details.")
        elif key in outputs and not is_secret(outputs[key]):
            outputs[key] = secret(outputs[key])
    for key, out in list(outputs.items()):
        if not is_secret(out) and is_secret(inputs.get(key)):
            outputs[key] = secret(out)
    return warnings


def secret_strings(value: Any, inside: bool = False) -> Iterator[str]:
    """The plain text of every string inside a secret somewhere in ``value`` (map keys inside a
    secret are structure, not secret data: not collected)."""
    if is_secret(value):
        yield from secret_strings(value["value"], True)
    elif isinstance(value, dict):
        for v in value.values():
            yield from secret_strings(v, inside)
    elif isinstance(value, list):
        for v in value:
            yield from secret_strings(v, inside)
    elif inside and isinstance(value, str):
        yield value


def plain_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, text) of every string and map key outside any secret wrapper."""
    if is_secret(value):
        return
    if isinstance(value, dict):
        for k, v in value.items():
            sub = f"{path}.{k}" if path else str(k)
            yield sub + " (key)", str(k)
            yield from plain_strings(v, sub)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from plain_strings(v, f"{path}[{i}]")
    elif isinstance(value, str):
        yield path, value


@dataclass(frozen=True)
class PlaintextSecret:
    """A secret's plain text found in stored state outside a secret wrapper."""

    urn: str  # the resource, or "<stack outputs>" / "<pending operation> urn"
    section: str  # inputs | outputs
    path: str  # e.g. managed_tags.team, copies[0].kms_key_id
    secret_preview: str  # the first characters of the secret found

    def __str__(self) -> str:
        return f"{self.urn} {self.section}.{self.path} holds secret {self.secret_preview!r} in plain text"

    __repr__ = __str__


def find_plaintext(
    secrets: Iterable[str], places: Iterable[tuple[str, str, Mapping[str, Any]]], min_length: int = 4
) -> list[PlaintextSecret]:
    """Every place (urn, section, properties) where the text of one of ``secrets`` appears outside a
    secret wrapper: equal to a string, a substring of a longer one, or a map key, at any depth.
    Secrets shorter than ``min_length`` are not looked for (they would match by chance)."""
    wanted = sorted({s for s in secrets if isinstance(s, str) and len(s) >= min_length})
    found = []
    for urn, section, props in places:
        for path, text in plain_strings(dict(props)):
            for value in wanted:
                if value in text:
                    preview = value[:6] + ("..." if len(value) > 6 else "")
                    found.append(PlaintextSecret(urn, section, path, preview))
    return found
