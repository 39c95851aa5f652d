"""The AWS edge: the FSx client factory, every boto3 call of the package, and AWS error mapping.

Plain functions taking the FSx client first, in sections: clients (one per region and process,
credentials from boto3's own chain), errors (AWS errors -> the package's hierarchy, with
``raise ... from``; transient ones retried past botocore's quota by ``TransientRetry``), finders
(``describe_*``, ``find_*``: every page read, and "not found" is ``None`` whatever form AWS used),
and actions (``create_backup``, ``copy_backup``, ``delete_backup``, ``tag_backup`` ...); the readers
of a description (``failure_reason``, ``user_tags``) are records.py's, re-exported. Waiting is not
done here: watcher.py polls through ``describe_backups``. No rule about *which* backup to make lives
here; backups.py and copies.py decide, this module only asks AWS. See docs/design.md.
"""

from __future__ import annotations

import datetime
import functools
import importlib
import os
import random
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Collection, Iterable, Mapping, Optional, Sequence

# Only botocore's exception classes are imported with this module (a few ms, no HTTP stack): the
# provider host imports it to unpickle the provider, and its first Check must not wait ~0.3 s for
# boto3 and botocore's client machinery (tests/unit/test_cold_imports.py). Those load on first use.
import botocore.exceptions
from botocore.exceptions import ClientError

from .connection import DEFAULT as DEFAULT_SETTINGS
from .connection import AwsSettings
from .errors import (
    AwsApiError,
    CopyRefusedError,
    CredentialsError,
    FsxBackupError,
    IneligibleTargetError,
    QuotaExceededError,
    TargetNotFoundError,
)
from .records import (  # noqa: F401  (re-exported: the AWS edge's callers read records through it)
    BACKUP_DELETED_STATE,
    BACKUP_DONE_STATE,
    BACKUP_FAILED_STATE,
    MAX_BACKUP_TAGS,
    TOKEN_TAG_KEY,
    Backup,
    FileSystem,
    Volume,
    failure_reason,
    marked_by_token,
    tag_value,
    user_tags,
)

DESCRIBE_BATCH = 50  # BackupIds / FileSystemIds / VolumeIds per call (model max)
DRA_FILTER_VALUES = 20  # values per Filter in DescribeDataRepositoryAssociations
DRA_PAGE = 25  # MaxResults max of DescribeDataRepositoryAssociations


# Standard mode retries throttling, 5xx and connection errors with jittered exponential backoff.
# FSx errors carry no `retryable` trait in botocore's model, so BackupInProgress & co. are never
# retried by botocore (https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html)
# and are handled explicitly below. Ten attempts in all survive heavy throttling bursts.
MAX_POOL_CONNECTIONS = 128
_CONFIG_SETTINGS: dict[str, dict[str, Any]] = {
    "RETRY_CONFIG": dict(
        retries={"mode": "standard", "total_max_attempts": 10},
        user_agent_extra="fsx-backup-component",
        connect_timeout=10,
        read_timeout=60,
        # Every waiting create of a stack may call at once (256 in the bench); botocore's default of
        # 10 pooled connections would open, and then drop, a new TLS connection for each call beyond it.
        max_pool_connections=MAX_POOL_CONNECTIONS,
    ),
    "POLL_RETRY_CONFIG": dict(
        retries={"mode": "standard", "total_max_attempts": 2},
        user_agent_extra="fsx-backup-component",
        connect_timeout=10,
        read_timeout=30,
    ),
}


@functools.lru_cache(maxsize=None)
def _config(name: str) -> Any:
    """``RETRY_CONFIG`` / ``POLL_RETRY_CONFIG`` as botocore Configs, built on first use (botocore.config
    imports botocore's HTTP stack)."""
    import botocore.config

    return botocore.config.Config(**_CONFIG_SETTINGS[name])


class _OnFirstUse:
    """A module imported when one of its attributes is first read (``boto3.session``...)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)


boto3: Any = _OnFirstUse("boto3")


def __getattr__(name: str) -> Any:
    """``fsx.RETRY_CONFIG`` and ``fsx.POLL_RETRY_CONFIG`` for callers outside this module."""
    if name in _CONFIG_SETTINGS:
        return _config(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Errors that a later poll may not see again: a waiter treats them as "no news this round".
TRANSIENT_ERROR_CODES = frozenset(
    {
        "InternalServerError",
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "RequestTimeout",
    }
)


# Signals to the callers above, not failures: never shown to a user, so outside FsxBackupError.


class BusyError(Exception):
    """FSx is busy with this target (BackupInProgress / BackupBeingCopied): wait, then try again."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(f"{code}: {message}")


class TokenSpentError(Exception):
    """FSx remembers this token with other parameters and no live backup has it: use the next one."""

    def __init__(self, token: str) -> None:
        self.token = token
        super().__init__(f"request token {token} belongs to a backup that no longer exists")


@dataclass
class CreateOutcome:
    """What CreateBackup answered for one token."""

    backup: Backup
    adopted_by_tag: bool = False


# ---------------------------------------------------------------------------------------------
# clients

_CLIENTS: dict[tuple[Any, ...], Any] = {}
_SESSIONS: dict[tuple[Any, ...], Any] = {}
# id(client) -> (client, its polling sibling). The client itself is kept and compared: an ID alone
# could name a freed client's successor at the same address.
_POLL_CLIENTS: dict[int, tuple[Any, Any]] = {}
_CLIENTS_LOCK = threading.RLock()
# A client is reused while these stay the same; a program (where pre-change hooks run) or a test that
# changes them gets a fresh client instead of one bound to an old endpoint or profile.
_CLIENT_ENV = (
    "AWS_ENDPOINT_URL_FSX", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ACCESS_KEY_ID",
    "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
)
DEFAULT_SESSION_NAME = "fsx-backup-component"


def client_for(region: Optional[str], settings: AwsSettings = DEFAULT_SETTINGS) -> Any:
    """A process-wide FSx client per region and AWS settings (profile, shared files, roles to
    assume; connection.py). Credentials come from boto3's own chain or from STS, never from state;
    the endpoint from AWS_ENDPOINT_URL_FSX / AWS_ENDPOINT_URL. Raises CredentialsError when the
    profile is not defined, there are no credentials, or a role cannot be assumed."""
    settings = settings.in_region(None)
    key = (region, settings, *(os.environ.get(name) for name in _CLIENT_ENV))
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            # Sessions are not thread-safe; clients are. Build under the lock, share afterwards.
            session = _session(settings, region)
            client = session.client("fsx", region_name=region, config=_config("RETRY_CONFIG"))
            _POLL_CLIENTS[id(client)] = (
                client, session.client("fsx", region_name=region, config=_config("POLL_RETRY_CONFIG"))
            )
            _CLIENTS[key] = client
        return client


def clients(settings: AwsSettings) -> Callable[[Optional[str]], Any]:
    """``region -> client`` with these settings: copies reach every destination as the same identity."""
    return functools.partial(_client_in, settings=settings)


def _client_in(region: Optional[str], *, settings: AwsSettings) -> Any:
    return client_for(region, settings)


def _session(settings: AwsSettings, region: Optional[str]) -> Any:
    """One boto3 session per settings (any region): a role is assumed once per process, and its
    credentials refresh themselves (botocore RefreshableCredentials) before they expire."""
    key = (settings, *(os.environ.get(name) for name in _CLIENT_ENV))
    session = _SESSIONS.get(key)
    if session is not None:
        return session
    core = _botocore_session(settings)
    try:
        session = boto3.session.Session(botocore_session=core)
        defined = settings.profile is None or settings.profile in session.available_profiles
    except botocore.exceptions.ProfileNotFound:
        defined = False
    if not defined:
        raise CredentialsError(
            f"AWS profile {settings.profile!r} is not defined in "
            f"{core.get_config_variable('config_file')} or {core.get_config_variable('credentials_file')}: "
            "define it there, or point `shared_config_files` / `shared_credentials_files` at the files "
            "that define it"
        )
    if settings.assume_roles:
        credentials = _assume_roles(session, settings, region or getattr(session, "region_name", None) or "us-east-1")
        # A second session: the first one has cached its own (source) credentials.
        assumed = _botocore_session(settings)
        from botocore.credentials import CredentialResolver

        assumed.register_component("credential_provider", CredentialResolver([_Given(credentials)]))
        session = boto3.session.Session(botocore_session=assumed)
    _SESSIONS[key] = session
    return session


def _botocore_session(settings: AwsSettings) -> Any:
    from botocore.session import Session  # on first use: a cold start imports no client machinery

    core = Session()
    if settings.shared_config_file:
        core.set_config_variable("config_file", os.path.expanduser(settings.shared_config_file))
    if settings.shared_credentials_file:
        core.set_config_variable("credentials_file", os.path.expanduser(settings.shared_credentials_file))
    if settings.profile:
        core.set_config_variable("profile", settings.profile)
    return core


class _Given:
    """Hands the session the credentials of the last role assumed (instead of boto3's own chain):
    what botocore's CredentialResolver asks of a provider, ``METHOD`` and ``load()``."""

    METHOD = "assume-role"

    def __init__(self, credentials: Any) -> None:
        self._credentials = credentials

    def load(self) -> Any:
        return self._credentials


def _assume_roles(session: Any, settings: AwsSettings, sts_region: str) -> Any:
    """Assume each role in turn (pulumi-aws's ``assume_roles`` chain), each with the credentials of
    the one before. The first AssumeRole happens now, so a refused role fails where it is asked for
    (the preview's check), with STS's reason; later refreshes call STS again before expiry."""
    from botocore.credentials import AssumeRoleCredentialFetcher, RefreshableCredentials

    source = session.get_credentials()
    if source is None:
        raise CredentialsError(
            f"no AWS credentials were found to assume {settings.assume_roles[0].role_arn}"
            f"{' with profile ' + repr(settings.profile) if settings.profile else ''}: set a profile, "
            "environment credentials or an instance/SSO role"
        )
    for role in settings.assume_roles:
        extra: dict[str, Any] = {"RoleSessionName": role.session_name or DEFAULT_SESSION_NAME}
        if role.external_id:
            extra["ExternalId"] = role.external_id
        if role.duration_seconds:
            extra["DurationSeconds"] = role.duration_seconds
        fetcher = AssumeRoleCredentialFetcher(
            client_creator=functools.partial(session.client, region_name=sts_region, config=_config("RETRY_CONFIG")),
            source_credentials=source,
            role_arn=role.role_arn,
            extra_args=extra,
            # No cache of its own: when to refresh is decided below, on one clock.
            cache=_NoCache(),
        )
        try:
            metadata = fetcher.fetch_credentials()
        except ClientError as exc:
            raise assume_role_error(exc, role.role_arn) from exc
        source = RefreshableCredentials(
            access_key=metadata["access_key"],
            secret_key=metadata["secret_key"],
            token=metadata["token"],
            expiry_time=RefreshableCredentials._expiry_datetime(metadata["expiry_time"]),
            refresh_using=fetcher.fetch_credentials,
            method="assume-role",
            time_fetcher=lambda: CREDENTIALS_CLOCK(),
        )
    return source


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


# What "now" is for assumed-role credentials (their expiry is STS's wall-clock time). Tests set the
# emulator's clock here, so that expiry and refresh are exercised without waiting.
CREDENTIALS_CLOCK: Callable[[], datetime.datetime] = _utc_now


class _NoCache(dict):  # type: ignore[type-arg]
    def __setitem__(self, key: Any, value: Any) -> None:
        pass


def assume_role_error(exc: ClientError, role_arn: Optional[str]) -> CredentialsError:
    """STS's refusal, with its own code and reason and the role asked for."""
    role = role_arn or "the role"
    return CredentialsError(
        f"could not assume {role}: {error_code(exc)}: {error_message(exc)}. Check the role's trust policy "
        "allows the caller, and `external_id` / `duration` in `assume_roles`",
        role_arn=role_arn,
        code=error_code(exc),
        request_id=request_id(exc),
    )


def polling_client(client: Any) -> Any:
    """The client polls go through: a sibling of ``client`` with few retries (a failed round is just
    "no news", polled again soon), so one throttled poll cannot hold up every waiting create for
    the tens of seconds botocore's full backoff takes. A client not made here is used as it is."""
    found = _POLL_CLIENTS.get(id(client))
    return found[1] if found is not None and found[0] is client else client


def default_region(settings: AwsSettings = DEFAULT_SETTINGS) -> Optional[str]:
    """The region to use without an explicit one: AWS_REGION (what the AWS CLI v2, the other SDKs and
    pulumi-aws read; botocore itself does not), else boto3's AWS_DEFAULT_REGION / the profile's."""
    if os.environ.get("AWS_REGION"):
        return os.environ["AWS_REGION"]
    if settings.profile or settings.shared_config_file:
        with _CLIENTS_LOCK:
            core = _botocore_session(settings)
            try:
                return core.get_config_variable("region")  # type: ignore[no-any-return]
            except botocore.exceptions.ProfileNotFound:
                return None
    return boto3.session.Session().region_name


_KNOWN_REGIONS: Optional[frozenset[str]] = None


def known_regions() -> frozenset[str]:
    """Regions botocore's endpoint data knows for FSx, across all partitions. Local data, no call."""
    global _KNOWN_REGIONS
    known = _KNOWN_REGIONS
    if known is not None:  # loaded: no lock (the lock is the client factory's, held while clients are made)
        return known
    # Under a lock: 32 concurrent first checks would otherwise each load the endpoint data.
    with _CLIENTS_LOCK:
        if _KNOWN_REGIONS is None:
            session = boto3.session.Session()
            regions: set[str] = set()
            for partition in session.get_available_partitions():
                regions.update(session.get_available_regions("fsx", partition_name=partition))
            _KNOWN_REGIONS = frozenset(regions)
        return _KNOWN_REGIONS


@functools.lru_cache(maxsize=None)
def partition_of(region: str) -> str:
    """The AWS partition of a region (aws, aws-cn, aws-us-gov, ...) from botocore's local data."""
    try:
        return str(boto3.session.Session().get_partition_for_region(region))
    except Exception:  # noqa: BLE001 - unknown to botocore: treat as its own partition
        return f"unknown:{region}"


def client_region(client: Any) -> str:
    return str(client.meta.region_name)


# ---------------------------------------------------------------------------------------------
# errors: AWS's answers mapped to the package's hierarchy (errors.py), transient ones retried


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def error_message(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message", ""))


def request_id(exc: ClientError) -> Optional[str]:
    meta = exc.response.get("ResponseMetadata", {})
    return meta.get("RequestId") or None


def is_transient(exc: BaseException) -> bool:
    """Errors worth another poll round once botocore's own retries are spent."""
    if isinstance(exc, ClientError):
        return error_code(exc) in TRANSIENT_ERROR_CODES
    return isinstance(
        exc,
        (
            botocore.exceptions.ConnectionError,
            botocore.exceptions.HTTPClientError,
            botocore.exceptions.ReadTimeoutError,
        ),
    )


def _api_error(operation: str, exc: ClientError, subject: str) -> FsxBackupError:
    if getattr(exc, "operation_name", "") == "AssumeRole":
        # Raised from an FSx call: the assumed role's credentials could not be refreshed.
        return assume_role_error(exc, None)
    return AwsApiError(operation, error_code(exc), error_message(exc), subject, request_id=request_id(exc))


def as_package_error(exc: BaseException, subject: str, operation: str = "DescribeBackups") -> BaseException:
    """AWS errors become AwsApiError (code, message, request ID); the package's own pass through. A
    refused refresh of assumed-role credentials (STS's error, raised from an FSx call) is a
    CredentialsError."""
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return CredentialsError(
            f"{operation} for {subject}: no AWS credentials were found: set a profile (the target's "
            "AWS provider, `aws:profile` or AWS_PROFILE), environment credentials or an instance/SSO role"
        )
    if isinstance(exc, ClientError):
        return _api_error(operation, exc, subject)
    return exc


def _chunks(items: Sequence[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


@dataclass
class TransientRetry:
    """Calls that keep failing with throttling / 5xx / connection errors after botocore's own
    attempts are tried again here, with full-jitter backoff, for up to ``budget_seconds``.

    botocore's standard mode shares one retry quota per client; a throttling storm across a stack's
    backups drains it within seconds and botocore then raises at once. Every call the package makes
    is safe to repeat (reads, and writes carrying a fixed ClientRequestToken or setting tags), so a
    storm costs time, not a failed `pulumi up`. Tests inject ``sleep`` and ``clock``.
    """

    budget_seconds: float = 300.0
    first_pause: float = 0.5
    max_pause: float = 8.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    retried: int = 0  # calls repeated here; observable for tests and benchmarks

    def call(self, fn: Callable[[], Any]) -> Any:
        give_up_at = self.clock() + self.budget_seconds
        pause = self.first_pause
        while True:
            try:
                return fn()
            except Exception as exc:
                if not is_transient(exc) or self.clock() + pause > give_up_at:
                    raise
            self.retried += 1
            self.sleep(random.uniform(pause / 2, pause))
            pause = min(self.max_pause, pause * 2)


TRANSIENT_RETRY = TransientRetry()


def _call(client: Any, operation: str, **request: Any) -> Any:
    """``client.<operation>(**request)``, surviving throttling storms (see TransientRetry)."""
    return TRANSIENT_RETRY.call(lambda: getattr(client, operation)(**request))


# ---------------------------------------------------------------------------------------------
# finders


@dataclass(frozen=True)
class _ByIds:
    """How one Describe* operation is asked about IDs and says that one is missing."""

    operation: str  # client method
    ids_param: str
    result_key: str
    id_key: str
    not_found: str


_BACKUPS = _ByIds("describe_backups", "BackupIds", "Backups", "BackupId", "BackupNotFound")
_FILE_SYSTEMS = _ByIds("describe_file_systems", "FileSystemIds", "FileSystems", "FileSystemId", "FileSystemNotFound")
_VOLUMES = _ByIds("describe_volumes", "VolumeIds", "Volumes", "VolumeId", "VolumeNotFound")


def _describe_by_ids(
    client: Any, how: _ByIds, ids: Sequence[str], *, retry: bool = True
) -> dict[str, Optional[dict[str, Any]]]:
    """Each item's description, ``None`` for one that does not exist.

    One paged call per 50 IDs. FSx may answer a look-up by IDs in short pages, in any order, so every
    page is read before an ID counts as missing (an ID on no page). FSx fails the whole call when any
    ID does not exist, so such a batch is re-asked one ID at a time to tell which one is gone.
    """
    found: dict[str, Optional[dict[str, Any]]] = {}
    for batch in _chunks(list(dict.fromkeys(ids)), DESCRIBE_BATCH):
        try:
            items = _all_pages(client, how.operation, how.result_key, retry=retry, **{how.ids_param: batch})
        except ClientError as exc:
            if error_code(exc) != how.not_found:
                raise
            if len(batch) == 1:
                found[batch[0]] = None
            else:
                for one in batch:
                    found.update(_describe_by_ids(client, how, [one], retry=retry))
            continue
        by_id = {item[how.id_key]: item for item in items}
        found.update({item_id: by_id.get(item_id) for item_id in batch})
    return found


def _all_pages(
    client: Any, operation: str, result_key: str, *, retry: bool = True, **request: Any
) -> list[dict[str, Any]]:
    """Every item of a Describe* call, following ``NextToken`` to the end (botocore's paginator where
    the operation has one). ``retry=False``: a transient error is raised at once (polls)."""
    call = TRANSIENT_RETRY.call if retry else (lambda fn: fn())
    if client.can_paginate(operation):

        def every_page() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = []
            for page in client.get_paginator(operation).paginate(**request):
                found.extend(page.get(result_key, []))
            return found

        return list(call(every_page))
    items: list[dict[str, Any]] = []
    while True:
        page = call(functools.partial(getattr(client, operation), **request))
        items.extend(page.get(result_key, []))
        next_token = page.get("NextToken")
        if not next_token:
            return items
        request = {**request, "NextToken": next_token}


def describe_backups(client: Any, backup_ids: Sequence[str], *, retry: bool = True) -> dict[str, Optional[Backup]]:
    """Current description of each backup, ``None`` for one that is gone (BackupNotFound or DELETED).
    Polls pass ``retry=False``: a throttled round is "no news", not a wait that holds up the others."""
    return {
        backup_id: None if backup is None or backup["Lifecycle"] == BACKUP_DELETED_STATE else backup
        for backup_id, backup in _describe_by_ids(client, _BACKUPS, backup_ids, retry=retry).items()
    }


def find_backup(client: Any, backup_id: str) -> Optional[Backup]:
    """The backup, or ``None`` if it no longer exists (deleted, in or outside Pulumi)."""
    return describe_backups(client, [backup_id])[backup_id]


def list_user_backups(client: Any, *, file_system_id: Optional[str], volume_id: Optional[str]) -> list[Backup]:
    """Live user-initiated backups of one file system or volume (all pages). A target that does not
    exist here has none (DescribeBackups may answer FileSystemNotFound / VolumeNotFound for its filter)."""
    target_filter = (
        {"Name": "volume-id", "Values": [volume_id]}
        if volume_id
        else {"Name": "file-system-id", "Values": [file_system_id or ""]}
    )
    try:
        return _live_user_backups(client, [target_filter])
    except ClientError as exc:
        if error_code(exc) in ("FileSystemNotFound", "VolumeNotFound"):
            return []
        raise _api_error("DescribeBackups", exc, volume_id or file_system_id or "?") from exc


def _live_user_backups(client: Any, filters: list[dict[str, Any]]) -> list[Backup]:
    filters = [{"Name": "backup-type", "Values": ["USER_INITIATED"]}, *filters]
    backups = _all_pages(client, "describe_backups", "Backups", Filters=filters)
    return [b for b in backups if b["Lifecycle"] != BACKUP_DELETED_STATE]


# Targets per listing of ``list_user_backups_of``: the model's maximum of values in one Filter. One
# listing naming 20 volumes relies on a filter's values being ORed, AWS's usual meaning of a Filter's
# Values ("any of"); for DescribeBackups it is UNCONFIRMED (reference §4). 1 restores one listing
# per target.
LISTING_FILTER_VALUES = 20


def list_user_backups_of(client: Any, target_ids: Sequence[str], *, filter_name: str) -> dict[str, list[Backup]]:
    """``list_user_backups`` for many targets at once: {volume or file system ID: its live
    user-initiated backups}, one paged listing per 20 targets (``filter_name`` "volume-id" or
    "file-system-id"). A batch naming a target this region does not know (FileSystemNotFound /
    VolumeNotFound for the whole call) is listed again one target at a time; such a target has none."""
    found: dict[str, list[Backup]] = {}
    for batch in _chunks(list(dict.fromkeys(target_ids)), LISTING_FILTER_VALUES):
        try:
            backups = _live_user_backups(client, [{"Name": filter_name, "Values": batch}])
        except ClientError as exc:
            code = error_code(exc)
            if code in ("FileSystemNotFound", "VolumeNotFound") and len(batch) > 1:
                for one in batch:
                    found.update(list_user_backups_of(client, [one], filter_name=filter_name))
                continue
            if code in ("FileSystemNotFound", "VolumeNotFound"):
                found[batch[0]] = []
                continue
            raise _api_error("DescribeBackups", exc, ", ".join(batch)) from exc
        found.update({target: [] for target in batch})
        for backup in backups:
            target = _listed_target(backup, filter_name)
            if target in found:
                found[target].append(backup)
    return found


def _listed_target(backup: Backup, filter_name: str) -> Optional[str]:
    """The value of ``filter_name`` that matched this backup (what the filter compares)."""
    if filter_name == "volume-id":
        return (backup.get("Volume") or {}).get("VolumeId")
    return (backup.get("FileSystem") or {}).get("FileSystemId")


def find_copy_of(client: Any, source: Backup) -> Optional[Backup]:
    """A live copy of ``source`` in the client's region (matched by SourceBackupId).

    Copies are listed by their source's file system or volume; where this region does not know that
    target (FileSystemNotFound for the filter), every user-initiated backup of the region is read."""
    volume_id = (source.get("Volume") or {}).get("VolumeId")
    file_system_id = (source.get("FileSystem") or {}).get("FileSystemId")
    target_filter = (
        {"Name": "volume-id", "Values": [volume_id]}
        if volume_id
        else {"Name": "file-system-id", "Values": [file_system_id or ""]}
    )
    try:
        try:
            backups = _live_user_backups(client, [target_filter])
        except ClientError as exc:
            if error_code(exc) not in ("FileSystemNotFound", "VolumeNotFound"):
                raise
            backups = _live_user_backups(client, [])
    except ClientError as exc:
        raise _api_error("DescribeBackups", exc, f"copies of {source['BackupId']}") from exc
    for backup in backups:
        if backup.get("SourceBackupId") == source["BackupId"]:
            return backup
    return None


def find_backups_by_token_tag(
    client: Any, *, file_system_id: Optional[str], volume_id: Optional[str], tokens: Collection[str]
) -> tuple[dict[str, Backup], list[Backup]]:
    """({token: backup} for the live backups of this target that carry one of ``tokens`` in their
    request-token tag, every live user-initiated backup of the target). Copies are skipped: an
    in-region copy made with CopyTags carries its source's token tag too."""
    backups = list_user_backups(client, file_system_id=file_system_id, volume_id=volume_id)
    return marked_by_token(backups, tokens), backups


def find_backup_by_token_tag(
    client: Any, *, file_system_id: Optional[str], volume_id: Optional[str], token: str
) -> Optional[Backup]:
    """The live user-initiated backup of this target that carries our request-token tag."""
    marked, _ = find_backups_by_token_tag(
        client, file_system_id=file_system_id, volume_id=volume_id, tokens=[token]
    )
    return marked.get(token)


def tags_copied_to_backups(
    client: Any,
    *,
    file_system_id: Optional[str],
    volume_id: Optional[str],
    describe: Optional[Callable[[str], Optional[dict[str, Any]]]] = None,
) -> dict[str, str]:
    """The tags FSx itself would copy to a backup made without Tags (CopyTagsToBackups on the file
    system or volume). The component always sends Tags (the request-token tag is the durable marker
    of every backup), and a request with Tags turns FSx's own copying off, so it copies them here.
    ``describe``: how to get the target's description now (lookups.py shares one call among the
    creates of a moment); by default its own DescribeVolumes / DescribeFileSystems."""
    if describe is None:
        describe = functools.partial(_describe_one, client, volume=bool(volume_id))
    try:
        return _tags_copied_to_backups(describe(volume_id or file_system_id or ""), volume=bool(volume_id))
    except ClientError as exc:
        operation = "DescribeVolumes" if volume_id else "DescribeFileSystems"
        raise _api_error(operation, exc, volume_id or file_system_id or "?") from exc


def _describe_one(client: Any, target_id: str, *, volume: bool) -> Optional[dict[str, Any]]:
    found = describe_volumes(client, [target_id]) if volume else describe_file_systems(client, [target_id])
    return found.get(target_id)


def _tags_copied_to_backups(item: Optional[dict[str, Any]], *, volume: bool) -> dict[str, str]:
    if volume:
        config = (item or {}).get("OntapConfiguration") or (item or {}).get("OpenZFSConfiguration") or {}
    else:
        config = next(
            (
                (item or {}).get(key) or {}
                for key in ("LustreConfiguration", "WindowsConfiguration", "OpenZFSConfiguration")
                if (item or {}).get(key)
            ),
            {},
        )
    if not item or not config.get("CopyTagsToBackups"):
        return {}
    # `aws:` keys are AWS's own (e.g. aws:cloudformation:stack-name): a request may not set them.
    tags = {t["Key"]: t["Value"] for t in item.get("Tags") or [] if not t["Key"].lower().startswith("aws:")}
    # The token tag takes one of the 50 places; FSx would have copied at most 50.
    return dict(sorted(tags.items())[: MAX_BACKUP_TAGS - 1])


def describe_file_systems(client: Any, file_system_ids: Sequence[str]) -> dict[str, Optional[FileSystem]]:
    """Each file system's description, ``None`` for an ID that does not exist."""
    return _describe_by_ids(client, _FILE_SYSTEMS, file_system_ids)


def describe_volumes(client: Any, volume_ids: Sequence[str]) -> dict[str, Optional[Volume]]:
    """Each volume's description, ``None`` for an ID that does not exist."""
    return _describe_by_ids(client, _VOLUMES, volume_ids)


def list_volumes_of(client: Any, file_system_id: str) -> list[Volume]:
    """Every volume of a file system: DescribeVolumes filtered by ``file-system-id``, every page."""
    try:
        return _all_pages(
            client, "describe_volumes", "Volumes", Filters=[{"Name": "file-system-id", "Values": [file_system_id]}]
        )
    except ClientError as exc:
        raise _api_error("DescribeVolumes", exc, file_system_id) from exc


def count_data_repository_associations(client: Any, file_system_ids: Sequence[str]) -> dict[str, int]:
    """Number of data repository associations per (Lustre) file system (every page)."""
    counts = {fs_id: 0 for fs_id in file_system_ids}
    for batch in _chunks(list(dict.fromkeys(file_system_ids)), DRA_FILTER_VALUES):
        associations = _all_pages(
            client,
            "describe_data_repository_associations",
            "Associations",
            Filters=[{"Name": "file-system-id", "Values": batch}],
            MaxResults=DRA_PAGE,
        )
        for association in associations:
            fs_id = association.get("FileSystemId")
            if fs_id in counts:
                counts[fs_id] += 1
    return counts


# ---------------------------------------------------------------------------------------------
# actions


def create_backup(
    client: Any,
    *,
    file_system_id: Optional[str],
    volume_id: Optional[str],
    token: str,
    tags: Optional[Mapping[str, str]],
) -> CreateOutcome:
    """CreateBackup with a fixed token. Returns the backup FSx associates with the token, which may be
    an earlier one (idempotent retry) in any lifecycle, DELETED and FAILED included.

    Raises BusyError on BackupInProgress (the caller waits), and the package's errors otherwise.
    """
    target = volume_id or file_system_id or "?"
    prop = "volume_id" if volume_id else "file_system_id"
    request: dict[str, Any] = {"ClientRequestToken": token}
    if volume_id:
        request["VolumeId"] = volume_id
    else:
        request["FileSystemId"] = file_system_id
    # Every backup carries its token in a tag: the durable marker that finds it again after FSx
    # has forgotten the token (its idempotency window is undocumented).
    request["Tags"] = [{"Key": k, "Value": v} for k, v in sorted((tags or {}).items())]
    request["Tags"].append({"Key": TOKEN_TAG_KEY, "Value": token})
    try:
        return CreateOutcome(_call(client, "create_backup", **request)["Backup"])
    except ClientError as exc:
        code = error_code(exc)
        if code == "BackupInProgress":
            raise BusyError(code, error_message(exc)) from exc
        if code == "IncompatibleParameterError":
            return _recover_incompatible_token(client, exc, file_system_id, volume_id, token, request)
        raise _translate_create_error(exc, prop, target, client_region(client)) from exc


def _recover_incompatible_token(
    client: Any,
    exc: ClientError,
    file_system_id: Optional[str],
    volume_id: Optional[str],
    token: str,
    request: dict[str, Any],
) -> CreateOutcome:
    """The token already made a backup with other parameters: the inputs changed (typically tags)
    between an interrupted create and its retry. Adopt that backup instead of making a second one:
    it carries our token tag if it was made with tags, else it answers the same request without tags.
    """
    adopted = find_backup_by_token_tag(client, file_system_id=file_system_id, volume_id=volume_id, token=token)
    if adopted is not None:
        return CreateOutcome(adopted, adopted_by_tag=True)
    if "Tags" in request:
        untagged = {k: v for k, v in request.items() if k != "Tags"}
        try:
            return CreateOutcome(_call(client, "create_backup", **untagged)["Backup"], adopted_by_tag=True)
        except ClientError as retry_exc:
            if error_code(retry_exc) == "BackupInProgress":
                raise BusyError("BackupInProgress", error_message(retry_exc)) from retry_exc
    # No live backup carries this token any more (it was deleted: deleted backups leave
    # DescribeBackups), yet FSx still remembers the token with other parameters.
    raise TokenSpentError(token) from exc


def _translate_create_error(exc: ClientError, prop: str, target: str, region: str) -> FsxBackupError:
    code, message, rid = error_code(exc), error_message(exc), request_id(exc)
    if code in ("FileSystemNotFound", "VolumeNotFound"):
        return TargetNotFoundError(prop, target, region, request_id=rid)
    if code == "UnsupportedOperation":
        return IneligibleTargetError(prop, f"FSx cannot back up {target}: {message}", request_id=rid)
    if code == "ServiceLimitExceeded":
        limit = str(exc.response.get("Limit") or exc.response.get("Error", {}).get("Limit") or "unknown")
        return QuotaExceededError(limit, target, message, request_id=rid)
    return _api_error("CreateBackup", exc, target)


# CopyBackup answers that mean "not now": at most 5 copies in progress per destination region, and a
# source that is not AVAILABLE yet (API_CopyBackup.html of the FSx API reference). The caller waits
# and asks again with the same token.
COPY_BUSY_LIMITS = frozenset({"TOTAL_IN_PROGRESS_COPY_BACKUPS"})


def copy_backup(
    client: Any,
    *,
    source_backup_id: str,
    source_region: str,
    token: str,
    kms_key_id: Optional[str],
    copy_tags: bool,
    tags: Optional[Mapping[str, str]],
) -> Backup:
    """CopyBackup, called with a client of the DESTINATION region. Returns the copy FSx associates
    with the token (any lifecycle). BusyError when FSx says to wait; package errors otherwise."""
    request: dict[str, Any] = {
        "SourceBackupId": source_backup_id,
        "SourceRegion": source_region,
        "ClientRequestToken": token,
        "CopyTags": copy_tags,
    }
    if kms_key_id:
        request["KmsKeyId"] = kms_key_id
    if tags:
        request["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
    destination = client_region(client)
    subject = f"{source_backup_id} -> {destination}"
    try:
        return dict(_call(client, "copy_backup", **request)["Backup"])
    except ClientError as exc:
        code, message, rid = error_code(exc), error_message(exc), request_id(exc)
        limit = str(exc.response.get("Limit") or exc.response.get("Error", {}).get("Limit") or "")
        if code == "SourceBackupUnavailable" or (code == "ServiceLimitExceeded" and limit in COPY_BUSY_LIMITS):
            raise BusyError(code, message) from exc
        if code == "ServiceLimitExceeded":
            raise QuotaExceededError(limit or "unknown", subject, message, request_id=rid) from exc
        if code in ("InvalidRegion", "InvalidDestinationKmsKey", "InvalidSourceKmsKey",
                    "IncompatibleRegionForMultiAZ", "UnsupportedOperation"):
            raise CopyRefusedError(code, message, source_backup_id, destination, request_id=rid) from exc
        if code == "IncompatibleParameterError":
            raise TokenSpentError(token) from exc
        raise _api_error("CopyBackup", exc, subject) from exc


def delete_backup(client: Any, backup_id: str, token: str) -> bool:
    """DeleteBackup. True when this call deleted it, False when it was already gone.

    Raises BusyError on BackupInProgress / BackupBeingCopied (the caller waits and retries).
    """
    try:
        _call(client, "delete_backup", BackupId=backup_id, ClientRequestToken=token)
        return True
    except ClientError as exc:
        code = error_code(exc)
        if code == "BackupNotFound":
            return False
        if code in ("BackupInProgress", "BackupBeingCopied"):
            raise BusyError(code, error_message(exc)) from exc
        raise _api_error("DeleteBackup", exc, backup_id) from exc


def tag_backup(client: Any, backup_arn: str, tags: Mapping[str, str]) -> None:
    if not tags:
        return
    try:
        _call(client, "tag_resource", ResourceARN=backup_arn, Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())])
    except ClientError as exc:
        raise _api_error("TagResource", exc, backup_arn) from exc


def untag_backup(client: Any, backup_arn: str, keys: Iterable[str]) -> None:
    keys = sorted(keys)
    if not keys:
        return
    try:
        _call(client, "untag_resource", ResourceARN=backup_arn, TagKeys=keys)
    except ClientError as exc:
        raise _api_error("UntagResource", exc, backup_arn) from exc
