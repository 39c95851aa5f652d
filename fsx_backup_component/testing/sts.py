"""Accounts, roles and an STS (AssumeRole, GetCallerIdentity) for the emulator.

Everything here is described, with its source, in docs/emulator.md, "Accounts and STS"; what the
sources leave UNCONFIRMED is marked so in a comment next to the one constant or function that decides
it. The wire format is awsQuery: a form-encoded ``POST /`` (``Action=...&Version=2011-06-15&...``)
answered with XML in the ``https://sts.amazonaws.com/doc/2011-06-15/`` namespace.

Who is calling is read from the SigV4 credential scope's access key (signatures are not verified):

* a long-term key registered with :meth:`Identities.add_account` belongs to that account;
* a temporary key issued by AssumeRole belongs to the role's account, must come with its session
  token (``X-Amz-Security-Token``) and expires on the emulator clock;
* any other key belongs to the emulator's default account (what every request did before accounts).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from .validation import format_validation_errors, validate_input

__all__ = [
    "AuthError",
    "Identities",
    "Principal",
    "Role",
    "Session",
    "StsError",
    "StsRequest",
    "handle_sts",
    "render_error",
]

STS_VERSION = "2011-06-15"
STS_NAMESPACE = f"https://sts.amazonaws.com/doc/{STS_VERSION}/"
DEFAULT_USER_NAME = "emulator"  # the IAM user every long-term key stands for (arn:...:user/emulator)
# API_AssumeRole: DurationSeconds 900 s up to the role's maximum session duration (1 h to 12 h),
# default 3600; role chaining limits a session to one hour.
MIN_SESSION_SECONDS = 900
DEFAULT_SESSION_SECONDS = 3600
MIN_ROLE_MAX_SESSION_SECONDS = 3600
MAX_ROLE_MAX_SESSION_SECONDS = 43200
CHAINED_SESSION_MAX_SECONDS = 3600
SUPPORTED_ACTIONS = ("AssumeRole", "GetCallerIdentity")

# Texts recorded from AWS (docs/emulator.md, "Accounts and STS" lists where each was seen).
ACCESS_DENIED_MESSAGE = "User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role}"
MAX_SESSION_MESSAGE = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
CHAINED_SESSION_MESSAGE = (
    "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
)
EXPIRED_TOKEN_MESSAGE = "The security token included in the request is expired"
INVALID_TOKEN_MESSAGE = "The security token included in the request is invalid."

_ACCOUNT_ID = re.compile(r"\d{12}")
_ROLE_ARN = re.compile(
    r"arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role/((?:[\w+=,.@-]+/)*)([\w+=,.@-]{1,64})", re.ASCII
)
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _unique_id(prefix: str, *parts: str) -> str:
    """A 21-character IAM unique ID (``AIDA``/``AROA`` + 17), deterministic in ``parts``."""
    digest = base64.b32encode(hashlib.sha256("/".join(parts).encode()).digest()).decode()
    return prefix + digest[:17]


def _random_key(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


def partition_of_region(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


# --- identities -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Role:
    """A role that AssumeRole can hand out sessions of (``FsxEmulator.add_role``)."""

    arn: str
    account: str
    name: str
    role_id: str  # AROA...
    trusted_accounts: frozenset[str] | None  # None: any account may assume it
    external_id: str | None
    max_session_seconds: int


@dataclass(frozen=True)
class Session:
    """Temporary credentials issued by AssumeRole."""

    access_key: str
    secret_key: str
    token: str
    role: Role
    session_name: str
    issued_at: float
    expires_at: float  # emulator clock
    chained: bool  # assumed with temporary credentials (role chaining)

    @property
    def account(self) -> str:
        return self.role.account

    @property
    def arn(self) -> str:
        partition = self.role.arn.split(":", 2)[1]
        return f"arn:{partition}:sts::{self.role.account}:assumed-role/{self.role.name}/{self.session_name}"

    @property
    def user_id(self) -> str:
        return f"{self.role.role_id}:{self.session_name}"


@dataclass(frozen=True)
class Principal:
    """Who signed a request: an IAM user (long-term or unregistered key) or a role session."""

    account: str
    arn: str
    user_id: str
    access_key: str | None
    session: Session | None = None


class AuthError(Exception):
    """A temporary key used without its token ("invalid") or after it expired ("expired")."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class StsError(Exception):
    """An STS error: ``<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>``."""

    def __init__(self, code: str, message: str, status: int = 400, error_type: str = "Sender") -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.error_type = error_type
        self.caller: Principal | None = None  # set once the caller was identified


@dataclass
class _Account:
    account_id: str
    user_name: str
    access_keys: set[str]


class Identities:
    """Accounts, their long-term keys, roles and the sessions issued (thread-safe)."""

    def __init__(self, default_account: Callable[[], str]) -> None:
        self._default_account = default_account
        self._lock = threading.RLock()
        self._accounts: dict[str, _Account] = {}
        self._keys: dict[str, str] = {}  # long-term access key -> account
        self._roles: dict[str, Role] = {}
        self._sessions: dict[str, Session] = {}  # temporary access key -> session

    # --- registration -------------------------------------------------------------------------

    def add_account(self, account_id: str, access_keys: Iterable[str] = (), user_name: str = DEFAULT_USER_NAME) -> None:
        check_account_id(account_id)
        if isinstance(access_keys, str):
            raise TypeError("access_keys is a list of access key IDs, not one string")
        keys = [str(key) for key in access_keys]
        for key in keys:
            if not key or re.search(r"[\s/,=]", key):
                raise ValueError(f"not an access key ID: {key!r}")
        with self._lock:
            for key in keys:
                owner = self._keys.get(key)
                if (owner is not None and owner != account_id) or key in self._sessions:
                    raise ValueError(f"access key {key} already belongs to {owner or 'a role session'}")
            account = self._accounts.setdefault(account_id, _Account(account_id, user_name, set()))
            account.user_name = user_name
            account.access_keys.update(keys)
            self._keys.update(dict.fromkeys(keys, account_id))

    def add_role(
        self,
        role_arn: str,
        trusted_accounts: Iterable[str] | None = None,
        external_id: str | None = None,
        max_session_seconds: int = DEFAULT_SESSION_SECONDS,
    ) -> Role:
        match = _ROLE_ARN.fullmatch(role_arn)
        if match is None:
            raise ValueError(f"not a role ARN (arn:aws:iam::123456789012:role/NAME): {role_arn!r}")
        if isinstance(trusted_accounts, str):
            raise TypeError("trusted_accounts is a list of account IDs, not one string")
        trusted = None if trusted_accounts is None else frozenset(str(a) for a in trusted_accounts)
        for account in trusted or ():
            check_account_id(account)
        if not MIN_ROLE_MAX_SESSION_SECONDS <= int(max_session_seconds) <= MAX_ROLE_MAX_SESSION_SECONDS:
            # API_AssumeRole: "This setting can have a value from 1 hour to 12 hours."
            raise ValueError("max_session_seconds must be 3600..43200 (1 to 12 hours)")
        if external_id is not None and not re.fullmatch(r"[\w+=,.@:/-]{2,1224}", external_id, re.ASCII):
            raise ValueError("external_id must be 2..1224 characters of [\\w+=,.@:/-]")
        account, name = match.group(2), match.group(4)
        role = Role(
            arn=role_arn, account=account, name=name, role_id=_unique_id("AROA", role_arn),
            trusted_accounts=trusted, external_id=external_id, max_session_seconds=int(max_session_seconds),
        )
        with self._lock:
            self._roles[role_arn] = role
            self._accounts.setdefault(account, _Account(account, DEFAULT_USER_NAME, set()))
        return role

    # --- look-ups -----------------------------------------------------------------------------

    @property
    def accounts(self) -> list[str]:
        with self._lock:
            return sorted(self._accounts)

    def roles(self) -> list[Role]:
        with self._lock:
            return list(self._roles.values())

    def session(self, access_key: str) -> Session | None:
        with self._lock:
            return self._sessions.get(access_key)

    def account_of_key(self, access_key: str | None) -> str:
        """The account an access key belongs to, without checking session tokens or expiry."""
        with self._lock:
            if access_key in self._sessions:
                return self._sessions[access_key].account
            return self._keys.get(access_key or "") or self._default_account()

    def identify(self, access_key: str | None, token: str | None, now: float, region: str) -> Principal:
        """The principal of a request; AuthError for an issued temporary key used without its
        session token ("invalid") or once expired ("expired")."""
        with self._lock:
            session = self._sessions.get(access_key or "")
            if session is not None:
                if token is None or not secrets.compare_digest(token, session.token):
                    raise AuthError("invalid")
                if now >= session.expires_at:
                    raise AuthError("expired")
                return Principal(session.account, session.arn, session.user_id, access_key, session)
            account_id = self._keys.get(access_key or "") or self._default_account()
            account = self._accounts.get(account_id)
            user = account.user_name if account is not None else DEFAULT_USER_NAME
        arn = f"arn:{partition_of_region(region)}:iam::{account_id}:user/{user}"
        return Principal(account_id, arn, _unique_id("AIDA", account_id, user), access_key)

    # --- AssumeRole ---------------------------------------------------------------------------

    def assume_role(self, caller: Principal, params: Mapping[str, Any], now: float) -> Session:
        """Check the request the way the docs describe (validation, then trust and ExternalId, then
        the duration limits; that order is UNCONFIRMED) and issue a session."""
        errors = validate_input(_assume_role_input_shape(), dict(params))
        if errors:
            raise StsError("ValidationError", format_validation_errors(errors))
        role_arn = str(params["RoleArn"])
        with self._lock:
            role = self._roles.get(role_arn)
            if role is None or not _trusts(role, caller, params.get("ExternalId")):
                # An unknown role is refused with the same text as a role that does not trust the caller.
                raise StsError(
                    "AccessDenied", ACCESS_DENIED_MESSAGE.format(caller=caller.arn, role=role_arn), status=403
                )
            duration = int(params.get("DurationSeconds") or DEFAULT_SESSION_SECONDS)
            chained = caller.session is not None
            # UNCONFIRMED: which limit is named when a chained request exceeds both (the chaining one here).
            if chained and duration > CHAINED_SESSION_MAX_SECONDS:
                raise StsError("ValidationError", CHAINED_SESSION_MESSAGE)
            if duration > role.max_session_seconds:
                raise StsError("ValidationError", MAX_SESSION_MESSAGE)
            session = Session(
                access_key=self._new_access_key(),
                secret_key=base64.b64encode(secrets.token_bytes(30)).decode(),
                token=base64.b64encode(secrets.token_bytes(160)).decode(),  # opaque, size not fixed
                role=role,
                session_name=str(params["RoleSessionName"]),
                issued_at=now,
                expires_at=now + duration,
                chained=chained,
            )
            self._sessions[session.access_key] = session
            return session

    def _new_access_key(self) -> str:
        while True:
            key = _random_key("ASIA")
            if key not in self._sessions and key not in self._keys:
                return key


def _trusts(role: Role, caller: Principal, external_id: Any) -> bool:
    """The role's trust policy, reduced to: the caller's account is trusted (None = any) and, when
    the role requires an ExternalId, the request carries exactly it. UNCONFIRMED: a failed ExternalId
    condition answers the same AccessDenied text as an untrusted caller (recorded for the latter)."""
    if role.trusted_accounts is not None and caller.account not in role.trusted_accounts:
        return False
    return role.external_id is None or external_id == role.external_id


def check_account_id(account_id: str) -> None:
    if not isinstance(account_id, str) or _ACCOUNT_ID.fullmatch(account_id) is None:
        raise ValueError(f"an AWS account ID is 12 digits, not {account_id!r}")


def _assume_role_input_shape() -> Any:
    return _sts_model().operation_model("AssumeRole").input_shape


_STS_MODEL: Any = None


def _sts_model() -> Any:
    global _STS_MODEL
    if _STS_MODEL is None:
        import botocore.session

        _STS_MODEL = botocore.session.get_session().get_service_model("sts")
    return _STS_MODEL


# --- the awsQuery front end ---------------------------------------------------------------------

# The request members the emulator reads (strings, DurationSeconds an integer). Others (Policy,
# PolicyArns, Tags, SerialNumber...) are accepted and ignored.
_SCALAR_MEMBERS = ("RoleArn", "RoleSessionName", "ExternalId", "SourceIdentity")


@dataclass(frozen=True)
class StsRequest:
    """One STS request as parsed: ``action`` (None when missing) and its form parameters."""

    action: str | None
    params: dict[str, str]


def parse_request(body: bytes, query: str) -> StsRequest:
    """Form parameters from the URL query and the form-encoded body (the body wins)."""
    params: dict[str, str] = {}
    for source in (query, body.decode("utf-8", errors="replace")):
        params.update(parse_qsl(source, keep_blank_values=True))
    return StsRequest(params.get("Action"), params)


def _assume_role_params(raw: Mapping[str, str]) -> dict[str, Any]:
    params: dict[str, Any] = {name: raw[name] for name in _SCALAR_MEMBERS if name in raw}
    if "DurationSeconds" in raw:
        value = raw["DurationSeconds"]
        try:
            params["DurationSeconds"] = int(value)
        except ValueError:
            # UNCONFIRMED: AWS's answer to a DurationSeconds that is not an integer (botocore never sends one).
            raise StsError(
                "ValidationError",
                format_validation_errors(
                    [f"Value '{value}' at 'durationSeconds' failed to satisfy constraint: Member must be an integer"]
                ),
            ) from None
    return params


def handle_sts(
    identities: Identities, request: StsRequest, access_key: str | None, token: str | None, now: float, region: str
) -> tuple[Principal, str]:
    """Answer one STS request: (the caller, the XML result element). Raises StsError for an error
    answer; its ``caller`` is set when the caller had been identified."""
    action = request.action
    if action not in SUPPORTED_ACTIONS:
        # UNCONFIRMED wording: AWS's Query front end answers an unknown action with InvalidAction.
        raise StsError("InvalidAction", f"Could not find operation {action} for version {STS_VERSION}")
    try:
        caller = identities.identify(access_key, token, now, region)
    except AuthError as err:
        if err.kind == "expired":
            raise StsError("ExpiredToken", EXPIRED_TOKEN_MESSAGE, status=403) from None
        raise StsError("InvalidClientTokenId", INVALID_TOKEN_MESSAGE, status=403) from None
    try:
        if action == "GetCallerIdentity":
            return caller, _result_xml(
                action, [("Arn", caller.arn), ("UserId", caller.user_id), ("Account", caller.account)]
            )
        session = identities.assume_role(caller, _assume_role_params(request.params), now)
    except StsError as err:
        err.caller = caller
        raise
    members: list[tuple[str, Any]] = []
    if request.params.get("SourceIdentity"):
        members.append(("SourceIdentity", request.params["SourceIdentity"]))
    members += [
        ("AssumedRoleUser", [("Arn", session.arn), ("AssumedRoleId", session.user_id)]),
        ("Credentials", [
            ("AccessKeyId", session.access_key),
            ("SecretAccessKey", session.secret_key),
            ("SessionToken", session.token),
            ("Expiration", iso8601(session.expires_at)),
        ]),
    ]
    return caller, _result_xml(action, members)


def iso8601(epoch: float) -> str:
    """``2011-07-15T23:28:33Z`` (UTC), the form of Credentials.Expiration."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def new_request_id() -> str:
    return str(uuid.uuid4())


def _elements(members: list[tuple[str, Any]], indent: str) -> str:
    lines = []
    for name, value in members:
        if isinstance(value, list):
            lines.append(f"{indent}<{name}>\n{_elements(value, indent + '  ')}{indent}</{name}>\n")
        else:
            lines.append(f"{indent}<{name}>{escape(str(value))}</{name}>\n")
    return "".join(lines)


def _result_xml(action: str, members: list[tuple[str, Any]]) -> str:
    """The body without its RequestId, which render_result fills in."""
    return f"<{action}Result>\n{_elements(members, '    ')}  </{action}Result>\n"


def render_result(action: str, result: str, request_id: str) -> bytes:
    return (
        f'<{action}Response xmlns="{STS_NAMESPACE}">\n  {result}'
        f"  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n"
        f"</{action}Response>\n"
    ).encode()


def render_error(error: StsError, request_id: str) -> bytes:
    return (
        f'<ErrorResponse xmlns="{STS_NAMESPACE}">\n  <Error>\n'
        f"    <Type>{error.error_type}</Type>\n    <Code>{escape(error.code)}</Code>\n"
        f"    <Message>{escape(error.message)}</Message>\n  </Error>\n"
        f"  <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n"
    ).encode()
