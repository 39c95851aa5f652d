"""Where and as whom the package calls AWS: the settings of an AWS provider (region, profile, shared
files, roles to assume) as the component sends them (the ``aws`` input) and as the stack config holds
them (``aws:*``), validated and merged by precedence. Pure: fsx.py turns settings into sessions.

Precedence, field by field (README "Which account and region"): the ``region`` input > the target
resource's region > the component's AWS provider > the stack config (``aws:region``, ``aws:profile``
...) > the environment (AWS_REGION, AWS_PROFILE, boto3's chain). The component merges its own part
(its arguments, the target's provider, its own provider) into the ``aws`` input; the provider layers
the stack config under it. Settings hold no secret: static keys are refused (``STATIC_KEYS``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from typing import Any, Final, Mapping, Optional

from .eligibility import Failure, is_unknown

# The names of the ``aws`` input's fields: pulumi-aws's own provider argument names.
REGION: Final = "region"
PROFILE: Final = "profile"
SHARED_CONFIG_FILES: Final = "shared_config_files"
SHARED_CREDENTIALS_FILES: Final = "shared_credentials_files"
ASSUME_ROLES: Final = "assume_roles"
# Set by the component when a provider it follows sets static keys: the name of that provider.
STATIC_KEYS: Final = "static_keys_in"
SETTING_NAMES = (REGION, PROFILE, SHARED_CONFIG_FILES, SHARED_CREDENTIALS_FILES, ASSUME_ROLES)

# The stack config keys of the default AWS provider (pulumi-aws's config namespace, camelCase).
CONFIG_KEYS = {
    REGION: "aws:region",
    PROFILE: "aws:profile",
    SHARED_CONFIG_FILES: "aws:sharedConfigFiles",
    SHARED_CREDENTIALS_FILES: "aws:sharedCredentialsFiles",
    ASSUME_ROLES: "aws:assumeRoles",
}

# IAM/STS limits (AssumeRole request parameters, STS API reference).
ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
SESSION_NAME_RE = re.compile(r"^[\w+=,.@-]{2,64}$")
EXTERNAL_ID_RE = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
MIN_DURATION_SECONDS = 900
MAX_DURATION_SECONDS = 43200
_GO_DURATION_RE = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")

STATIC_KEYS_REFUSED = (
    "sets access_key/secret_key/token: FsxBackup never takes static keys, because everything it is "
    "given is written into this stack's state. Give that provider a `profile` (or use AWS_PROFILE, "
    "environment credentials or an instance/SSO role), and `assume_roles` for another account"
)


@dataclass(frozen=True)
class RoleToAssume:
    """One entry of ``assume_roles`` (pulumi-aws ``ProviderAssumeRoleArgs``: role_arn, external_id,
    session_name, duration as a Go duration such as "1h")."""

    role_arn: str
    external_id: Optional[str] = None
    session_name: Optional[str] = None
    duration_seconds: Optional[int] = None


@dataclass(frozen=True)
class AwsSettings:
    """Where and as whom to call AWS. Hashable: fsx.py keeps one session per settings."""

    region: Optional[str] = None
    profile: Optional[str] = None
    shared_config_file: Optional[str] = None
    shared_credentials_file: Optional[str] = None
    assume_roles: tuple[RoleToAssume, ...] = ()

    def over(self, fallback: AwsSettings) -> AwsSettings:
        """Each field from ``self`` when set, else from ``fallback``."""
        return AwsSettings(
            **{f.name: getattr(self, f.name) or getattr(fallback, f.name) for f in fields(AwsSettings)}
        )

    def in_region(self, region: Optional[str]) -> AwsSettings:
        return AwsSettings(**{**{f.name: getattr(self, f.name) for f in fields(AwsSettings)}, "region": region})

    def describe(self) -> str:
        """For messages: who the package acts as (never a secret: settings hold none)."""
        parts = []
        if self.profile:
            parts.append(f"profile {self.profile!r}")
        if self.assume_roles:
            parts.append("role " + " -> ".join(r.role_arn for r in self.assume_roles))
        return ", ".join(parts)  # empty: boto3's default chain


DEFAULT = AwsSettings()


def parse_duration(value: Any) -> int:
    """Seconds of a pulumi-aws duration ("1h", "15m", "1h30m", "900s") or a number of seconds."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as \"1h\" or \"900s\", got {value!r}")
    if isinstance(value, (int, float)):
        return int(value)
    match = _GO_DURATION_RE.match(str(value).strip())
    if not match or not any(match.groups()):
        raise ValueError(f"expected a duration such as \"1h\", \"15m\" or \"900s\", got {value!r}")
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def arn_region(arn: Any) -> Optional[str]:
    """The region field of an ARN (``arn:aws:fsx:us-west-2:123...:file-system/fs-...``)."""
    parts = arn.split(":") if isinstance(arn, str) else []
    return parts[3] if len(parts) > 5 and parts[3] else None


def role_maps(roles: Any) -> Any:
    """``aws.ProviderAssumeRoleArgs`` objects (or maps) as plain maps, in pulumi-aws's names."""
    if not isinstance(roles, (list, tuple)):
        return roles
    return [
        role if isinstance(role, Mapping) or not hasattr(role, "role_arn")
        else {k: getattr(role, k, None) for k in ("role_arn", "external_id", "session_name", "duration")}
        for role in roles
    ]


def settings_from_input(value: Any) -> tuple[AwsSettings, list[Failure]]:
    """The ``aws`` input (as the component sends it) -> settings, and what is wrong with it. Unknown
    parts (preview) are left out and not judged."""
    if value is None or is_unknown(value):
        return DEFAULT, []
    if not isinstance(value, Mapping):
        return DEFAULT, [Failure("aws", f"expected a map of AWS provider settings, got {type(value).__name__}")]
    failures: list[Failure] = []
    static_in = value.get(STATIC_KEYS)
    if static_in and not is_unknown(static_in):
        failures.append(Failure("providers", f"the AWS provider {static_in!r} {STATIC_KEYS_REFUSED}"))
    region = _text(value.get(REGION), REGION, failures)
    profile = _text(value.get(PROFILE), PROFILE, failures)
    config_file = _one_file(value.get(SHARED_CONFIG_FILES), SHARED_CONFIG_FILES, failures)
    credentials_file = _one_file(value.get(SHARED_CREDENTIALS_FILES), SHARED_CREDENTIALS_FILES, failures)
    roles = _roles(value.get(ASSUME_ROLES), failures)
    return AwsSettings(region, profile, config_file, credentials_file, roles), failures


def settings_from_config(config: Any) -> tuple[AwsSettings, list[Failure]]:
    """The stack config's ``aws:*`` settings (the default AWS provider's): lists arrive as JSON text.
    ``config``: anything with ``get(key)``, such as the dynamic host's ``pulumi.dynamic.Config``."""
    raw: dict[str, Any] = {}
    failures: list[Failure] = []
    for name, key in CONFIG_KEYS.items():
        value = config.get(key)
        if isinstance(value, str) and name in (SHARED_CONFIG_FILES, SHARED_CREDENTIALS_FILES, ASSUME_ROLES):
            try:
                value = json.loads(value)
            except ValueError:
                failures.append(Failure(key, f"expected a JSON list, got {value!r}"))
                continue
        if name == ASSUME_ROLES and isinstance(value, list):
            value = [_snake_role(r) for r in value]
        raw[name] = value
    settings, more = settings_from_input(raw)
    # Named as the user wrote them: `aws:assumeRoles[0].role_arn: ...`.
    for failure in more:
        name, _, rest = failure.property.partition("[")
        failures.append(Failure(CONFIG_KEYS.get(name, name) + (f"[{rest}" if rest else ""), failure.reason))
    return settings, failures


def _snake_role(role: Any) -> Any:
    """``aws:assumeRoles`` entries use the config's camelCase names."""
    if not isinstance(role, Mapping):
        return role
    names = {"roleArn": "role_arn", "externalId": "external_id", "sessionName": "session_name"}
    return {names.get(k, k): v for k, v in role.items()}


def _text(value: Any, name: str, failures: list[Failure]) -> Optional[str]:
    if value is None or is_unknown(value) or value == "":
        return None
    if not isinstance(value, str):
        failures.append(Failure(name, f"expected a string, got {value!r}"))
        return None
    return value


def _one_file(value: Any, name: str, failures: list[Failure]) -> Optional[str]:
    if value is None or is_unknown(value):
        return None
    paths = [value] if isinstance(value, str) else value
    if not isinstance(paths, (list, tuple)) or not all(isinstance(p, str) and p for p in paths):
        failures.append(Failure(name, f"expected a list of file paths, got {value!r}"))
        return None
    if len(paths) > 1:
        # botocore reads one config file and one credentials file (AWS_CONFIG_FILE and
        # AWS_SHARED_CREDENTIALS_FILE are single paths), unlike the Go SDK pulumi-aws uses.
        failures.append(Failure(name, f"give one file; boto3 reads a single file, got {len(paths)}: {paths}"))
        return None
    return paths[0] if paths else None


def _roles(value: Any, failures: list[Failure]) -> tuple[RoleToAssume, ...]:
    if value is None or is_unknown(value):
        return ()
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, (list, tuple)):
        failures.append(Failure(ASSUME_ROLES, f"expected a list of {{role_arn, ...}} maps, got {value!r}"))
        return ()
    roles = []
    for index, entry in enumerate(value):
        where = f"{ASSUME_ROLES}[{index}]"
        if is_unknown(entry):
            continue
        if not isinstance(entry, Mapping):
            failures.append(Failure(where, f"expected a map with role_arn, got {entry!r}"))
            continue
        unknown = sorted(set(entry) - {"role_arn", "external_id", "session_name", "duration"})
        if unknown:
            failures.append(Failure(
                f"{where}.{unknown[0]}",
                "is not supported; valid keys: role_arn, external_id, session_name, duration",
            ))
        arn = entry.get("role_arn")
        if is_unknown(arn):
            continue
        if not isinstance(arn, str) or not ROLE_ARN_RE.match(arn):
            failures.append(Failure(f"{where}.role_arn", f"expected arn:aws:iam::<12-digit account>:role/<name>, got {arn!r}"))
            continue
        external_id = _checked(entry.get("external_id"), EXTERNAL_ID_RE, f"{where}.external_id",
                               "2-1224 characters of letters, digits and +=,.@:/-", failures)
        session_name = _checked(entry.get("session_name"), SESSION_NAME_RE, f"{where}.session_name",
                                "2-64 characters of letters, digits and +=,.@-", failures)
        duration = None
        raw_duration = entry.get("duration")
        if raw_duration not in (None, "") and not is_unknown(raw_duration):
            try:
                duration = parse_duration(raw_duration)
            except ValueError as exc:
                failures.append(Failure(f"{where}.duration", str(exc)))
            else:
                if not MIN_DURATION_SECONDS <= duration <= MAX_DURATION_SECONDS:
                    failures.append(Failure(
                        f"{where}.duration",
                        f"must be between 15m and 12h (STS DurationSeconds 900-43200), got {raw_duration!r}",
                    ))
                    duration = None
        roles.append(RoleToAssume(arn, external_id, session_name, duration))
    return tuple(roles)


def _checked(value: Any, pattern: re.Pattern[str], name: str, valid: str, failures: list[Failure]) -> Optional[str]:
    if value in (None, "") or is_unknown(value):
        return None
    if not isinstance(value, str) or not pattern.match(value):
        failures.append(Failure(name, f"expected {valid}, got {value!r}"))
        return None
    return value
