"""Pure rules: which inputs are well formed and which FSx targets can be backed up. No I/O here.

Every rule returns ``Failure`` values naming the input property and what would be valid, so that the
same text reaches the user from `pulumi preview` (check failures) and from the error table in the
README. The eligibility facts come from the FSx user guides (cited at ``check_file_system`` and
``check_volume``); docs/design.md says which rule lives where.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

# Patterns of FileSystemId and VolumeId in botocore's FSx model (CreateBackupRequest).
FILE_SYSTEM_ID_RE = re.compile(r"^fs-[0-9a-f]{8,}\Z")  # \Z: `$` would accept a final newline
VOLUME_ID_RE = re.compile(r"^fsvol-[0-9a-f]{17,}\Z")
# Any well-formed region name, also of partitions and regions newer than the installed botocore
# (e.g. eusc-de-east-1, us-isob-east-1); whether FSx is there is FSx's answer, not a guess here.
REGION_RE = re.compile(r"^[a-z]{2,}(-[a-z]+)+-\d{1,2}\Z")

MAX_TAGS_PER_BACKUP = 50
# When the user gives tags, one tag carries the request token so a retried create can find its backup.
RESERVED_TAG_COUNT = 1
MAX_USER_TAGS = MAX_TAGS_PER_BACKUP - RESERVED_TAG_COUNT
# The component's own tags (request token, pre-change guard) all start with this.
RESERVED_TAG_PREFIX = "fsx-backup-component:"
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
_TAG_PUNCTUATION = set("_.:/=+-@")

DEFAULT_TIMEOUT_SECONDS = 2 * 60 * 60
# Backups of many-TB file systems can take hours; a week is beyond any documented duration and is
# almost certainly a unit mistake (milliseconds given as seconds).
MAX_TIMEOUT_SECONDS = 7 * 24 * 60 * 60

LUSTRE_SCRATCH_TYPES = frozenset({"SCRATCH_1", "SCRATCH_2"})
ONTAP_INELIGIBLE_VOLUME_TYPES = frozenset({"DP", "LS"})
# Only AVAILABLE is documented as a state in which backups are taken; a backup requested while a file
# system is UPDATING is queued (the Windows and Lustre user guides), so it is not refused here.
BACKUP_READY_FILE_SYSTEM_STATES = frozenset({"AVAILABLE", "UPDATING"})
BACKUP_READY_VOLUME_STATES = frozenset({"CREATED", "AVAILABLE"})
# A data repository association being deleted or failed may still link the file system (UNCONFIRMED):
# every association counts.


def is_unknown(value: Any) -> bool:
    """A value the engine does not know yet (preview): ``pulumi.output.Unknown``, or the wire's
    unknown sentinel where a value was not deserialized. The package's one test of unknowns."""
    return isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN)


@dataclass(frozen=True)
class Failure:
    """One reason an input cannot be used, attributed to the input property."""

    property: str
    reason: str

    def __str__(self) -> str:
        return f"{self.property}: {self.reason}"


@dataclass(frozen=True)
class FileSystemFacts:
    """What is known about a target file system; ``None`` means unknown (yet)."""

    file_system_id: Optional[str] = None
    file_system_type: Optional[str] = None  # LUSTRE | WINDOWS | ONTAP | OPENZFS
    deployment_type: Optional[str] = None
    import_path: Optional[str] = None
    export_path: Optional[str] = None
    data_repository_association_count: Optional[int] = None
    lifecycle: Optional[str] = None


@dataclass(frozen=True)
class VolumeFacts:
    """What is known about a target volume; ``None`` means unknown (yet)."""

    volume_id: Optional[str] = None
    volume_type: Optional[str] = None  # ONTAP | OPENZFS
    ontap_volume_type: Optional[str] = None  # RW | DP | LS
    flexcache_endpoint_type: Optional[str] = None  # NONE | ORIGIN | CACHE
    lifecycle: Optional[str] = None
    name: Optional[str] = None
    svm_root: Optional[bool] = None  # the root volume of its storage virtual machine


def check_target_choice(
    *, file_system_id: Any, volume_id: Any, file_system_known: bool, volume_known: bool
) -> list[Failure]:
    """Exactly one of file system / volume. Unknown values count as given."""
    fs_given = file_system_id is not None or not file_system_known
    vol_given = volume_id is not None or not volume_known
    if fs_given and vol_given:
        return [
            Failure(
                "file_system_id",
                "give exactly one target: `file_system_id`/`file_system` (Lustre, Windows, OpenZFS) "
                "or `volume_id`/`volume` (ONTAP), not both",
            )
        ]
    if not fs_given and not vol_given:
        return [
            Failure(
                "file_system_id",
                "give exactly one target: `file_system_id`/`file_system` (Lustre, Windows, OpenZFS) "
                "or `volume_id`/`volume` (ONTAP volume)",
            )
        ]
    return []


def check_file_system_id(value: Any) -> list[Failure]:
    if not isinstance(value, str) or not FILE_SYSTEM_ID_RE.match(value) or not 11 <= len(value) <= 21:
        return [
            Failure(
                "file_system_id",
                f"{value!r} is not a file system ID; expected `fs-` followed by 8 to 18 lowercase hex "
                "digits, e.g. fs-0123456789abcdef0",
            )
        ]
    return []


def check_volume_id(value: Any) -> list[Failure]:
    if not isinstance(value, str) or not VOLUME_ID_RE.match(value) or len(value) != 23:
        return [
            Failure(
                "volume_id",
                f"{value!r} is not a volume ID; expected `fsvol-` followed by 17 lowercase hex digits, "
                "e.g. fsvol-0123456789abcdef0",
            )
        ]
    return []


def check_create_inputs(
    *, resource_urn: Any, file_system_id: Any, volume_id: Any, tags: Any
) -> list[Failure]:
    """What create() needs before any AWS call, every value known: one well-formed target, tags FSx
    accepts, and the resource's URN (sent by the component)."""
    failures = check_target_choice(
        file_system_id=file_system_id, volume_id=volume_id, file_system_known=True, volume_known=True
    )
    if file_system_id is not None:
        failures += check_file_system_id(file_system_id)
    if volume_id is not None:
        failures += check_volume_id(volume_id)
    failures += check_tags(tags)
    if not isinstance(resource_urn, str):
        failures.append(Failure("resource_urn", "missing; create FsxBackup through the component"))
    return failures


def _tag_text_ok(text: str) -> bool:
    # The model pattern is ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$ : letters, separators, numbers, and _.:/=+-@
    return all(unicodedata.category(c)[0] in "LZN" or c in _TAG_PUNCTUATION for c in text)


def check_tags(tags: Any) -> list[Failure]:
    if tags is None:
        return []
    if not isinstance(tags, Mapping):
        return [Failure("tags", "must be a map of string keys to string values")]
    failures: list[Failure] = []
    if len(tags) > MAX_USER_TAGS:
        failures.append(
            Failure(
                "tags",
                f"{len(tags)} tags given; at most {MAX_USER_TAGS} (FSx allows {MAX_TAGS_PER_BACKUP} per "
                "backup and the component keeps one for its request token)",
            )
        )
    for key, value in tags.items():
        if not isinstance(key, str) or not 1 <= len(key) <= TAG_KEY_MAX:
            failures.append(Failure("tags", f"key {key!r} must be 1 to {TAG_KEY_MAX} characters"))
            continue
        if key.lower().startswith("aws:"):
            failures.append(Failure("tags", f"key {key!r} uses the reserved prefix `aws:`"))
        if key.startswith(RESERVED_TAG_PREFIX):
            failures.append(
                Failure("tags", f"key {key!r} uses the prefix `{RESERVED_TAG_PREFIX}` reserved for the component's own tags")
            )
        if not _tag_text_ok(key):
            failures.append(
                Failure(
                    "tags",
                    f"key {key!r} has characters FSx refuses; use letters, digits, spaces and _ . : / = + - @",
                )
            )
        if not isinstance(value, str):
            failures.append(Failure("tags", f"value of {key!r} must be a string, got {type(value).__name__}"))
            continue
        if len(value) > TAG_VALUE_MAX:
            failures.append(Failure("tags", f"value of {key!r} is {len(value)} characters; at most {TAG_VALUE_MAX}"))
        if not _tag_text_ok(value):
            failures.append(
                Failure(
                    "tags",
                    f"value of {key!r} has characters FSx refuses; use letters, digits, spaces and _ . : / = + - @",
                )
            )
    return failures


def check_timeout(value: Any) -> list[Failure]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return [Failure("timeout_seconds", f"must be a number of seconds, got {value!r}")]
    if not math.isfinite(value):
        return [Failure("timeout_seconds", f"must be a finite number of seconds, at most {MAX_TIMEOUT_SECONDS} (7 days), got {value}")]
    if value <= 0:
        return [Failure("timeout_seconds", f"must be positive, got {value}; the default is {DEFAULT_TIMEOUT_SECONDS}")]
    if value > MAX_TIMEOUT_SECONDS:
        return [
            Failure(
                "timeout_seconds",
                f"{value} seconds is more than {MAX_TIMEOUT_SECONDS} (7 days); give the deadline in seconds",
            )
        ]
    return []


def check_keep_last(value: Any, *, tags: Any = None, copy_to_regions: Any = None) -> list[Failure]:
    """``keep_last``: a whole number >= 1, or None (only the current backup). Its rotation tag takes
    one more of FSx's 50 tags; copies of pruned backups are not followed yet, so no copies with it."""
    if value is None:
        return []
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not whole or value < 1:
        return [Failure("keep_last", f"must be a whole number >= 1 (the newest backups to keep), got {value!r}")]
    failures: list[Failure] = []
    if isinstance(tags, Mapping) and len(tags) > MAX_USER_TAGS - 1:
        failures.append(Failure("tags", f"{len(tags)} tags given; with keep_last at most {MAX_USER_TAGS - 1} "
                                        "(the component keeps one for its request token and one for the rotation)"))
    if copy_to_regions:
        failures.append(Failure("keep_last", "cannot be combined with copy_to_regions yet: the copies of "
                                             "pruned backups would be left behind; drop one of the two"))
    return failures


def check_region_syntax(value: Any) -> list[Failure]:
    if value is None:
        return []
    if not isinstance(value, str) or not REGION_RE.match(value):
        return [Failure("region", f"{value!r} is not an AWS region name such as us-east-1")]
    return []


def check_file_system(facts: FileSystemFacts, prop: str = "file_system_id") -> list[Failure]:
    """Eligibility of a whole-file-system backup. Unknown facts are not judged.

    https://docs.aws.amazon.com/fsx/latest/LustreGuide/using-backups-fsx.html (persistent, not linked
    to S3), .../ONTAPGuide/using-backups.html (volumes, not file systems), .../OpenZFSGuide/using-backups.html.
    """
    name = facts.file_system_id or "the file system"
    fs_type = facts.file_system_type
    if fs_type == "ONTAP":
        return [
            Failure(
                prop,
                f"{name} is an FSx for NetApp ONTAP file system; FSx backs up ONTAP volumes, not whole "
                "file systems. Pass the volume instead (`volume_id=` or `volume=`).",
            )
        ]
    failures: list[Failure] = []
    if fs_type == "LUSTRE":
        if facts.deployment_type in LUSTRE_SCRATCH_TYPES:
            failures.append(
                Failure(
                    prop,
                    f"{name} is a Lustre {facts.deployment_type} file system; FSx cannot back up scratch "
                    "file systems. Only PERSISTENT_1 / PERSISTENT_2 Lustre file systems have backups.",
                )
            )
        linked = [p for p in (facts.import_path, facts.export_path) if p]
        if linked:
            failures.append(
                Failure(
                    prop,
                    f"{name} is linked to an S3 data repository ({', '.join(linked)}); FSx does not back "
                    "up Lustre file systems linked to S3. Back up a file system without ImportPath/ExportPath.",
                )
            )
        if facts.data_repository_association_count:
            failures.append(
                Failure(
                    prop,
                    f"{name} has {facts.data_repository_association_count} data repository "
                    "association(s) to S3; FSx does not back up Lustre file systems linked to S3. "
                    "Remove the associations or back up another file system.",
                )
            )
    if facts.lifecycle is not None and facts.lifecycle not in BACKUP_READY_FILE_SYSTEM_STATES:
        failures.append(
            Failure(
                prop,
                f"{name} is {facts.lifecycle}; FSx backs up file systems that are AVAILABLE. "
                "Wait until it is AVAILABLE or fix it first.",
            )
        )
    return failures


def check_volume(facts: VolumeFacts, prop: str = "volume_id") -> list[Failure]:
    """Eligibility of an ONTAP volume backup. Unknown facts are not judged.

    https://docs.aws.amazon.com/fsx/latest/ONTAPGuide/using-backups.html (RW volumes only; not DP, LS
    or FlexCache caches).
    """
    name = facts.volume_id or "the volume"
    if facts.volume_type == "OPENZFS":
        return [
            Failure(
                prop,
                f"{name} is an OpenZFS volume; FSx backs up OpenZFS file systems as a whole. Pass the "
                "file system (`file_system_id=` or `file_system=`) instead.",
            )
        ]
    failures: list[Failure] = []
    if facts.ontap_volume_type in ONTAP_INELIGIBLE_VOLUME_TYPES:
        failures.append(
            Failure(
                prop,
                f"{name} is an ONTAP {facts.ontap_volume_type} volume; FSx backs up read-write (RW) "
                "volumes only. Back up the source RW volume instead.",
            )
        )
    if facts.flexcache_endpoint_type == "CACHE":
        failures.append(
            Failure(
                prop,
                f"{name} is a FlexCache cache volume; FSx cannot back up FlexCache caches. Back up the "
                "origin volume instead.",
            )
        )
    if facts.lifecycle is not None and facts.lifecycle not in BACKUP_READY_VOLUME_STATES:
        failures.append(
            Failure(
                prop,
                f"{name} is {facts.lifecycle}; FSx backs up volumes that are CREATED or AVAILABLE.",
            )
        )
    return failures


@dataclass(frozen=True)
class VolumePlan:
    """The volumes of an ONTAP file system a backup of the whole file system takes, and the others
    with the reason each is left out (FSx cannot back up an ONTAP file system, only its volumes)."""

    volumes: list[VolumeFacts]
    skipped: list[tuple[VolumeFacts, str]]

    def why_none(self, file_system_id: str) -> str:
        reasons = "; ".join(f"{v.volume_id} ({v.name}): {reason}" for v, reason in self.skipped)
        return f"{file_system_id} has no volume FSx can back up" + (f": {reasons}" if reasons else " (it has no volumes)")


def plan_volume_backups(volumes: Sequence[VolumeFacts]) -> VolumePlan:
    """Every volume ``check_volume`` accepts, in volume ID order (stable whatever order FSx lists them
    in); an SVM's root volume is left out too: it holds the SVM's namespace junctions, not data, and
    FSx's backup guide documents data volumes only (whether CreateBackup accepts it: UNCONFIRMED)."""
    taken: list[VolumeFacts] = []
    skipped: list[tuple[VolumeFacts, str]] = []
    for volume in sorted(volumes, key=lambda v: v.volume_id or ""):
        failures = check_volume(volume, prop="volume")
        if failures:
            skipped.append((volume, failures[0].reason))
        elif volume.svm_root:
            skipped.append((volume, "the root volume of its storage virtual machine (no data of its own)"))
        else:
            taken.append(volume)
    return VolumePlan(volumes=taken, skipped=skipped)


KMS_KEY_RE = re.compile(
    r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}|alias/[A-Za-z0-9/_-]+"
    r"|arn:aws[a-z-]*:kms:(?P<region>[a-z0-9-]+):\d{12}:(?:key/[A-Za-z0-9-]+|alias/[A-Za-z0-9/_-]+))\Z"
)


def check_copy_destinations(
    value: Any,
    *,
    source_region: str,
    known_regions: frozenset[str],
    partition_of: Any,
) -> list[Failure]:
    """`copy_to_regions`: known regions of the source's partition, each once, KMS keys well formed
    and in the destination region (https://docs.aws.amazon.com/fsx/latest/APIReference/API_CopyBackup.html)."""
    if value is None:
        return []
    prop = "copy_to_regions"
    if not isinstance(value, (list, tuple)):
        return [Failure(prop, "must be a list of regions, or of {region, kms_key_id} maps")]
    failures: list[Failure] = []
    seen: set[str] = set()
    for item in value:
        if is_unknown(item):
            continue
        region, kms = (item, None) if isinstance(item, str) else (
            (item.get("region"), item.get("kms_key_id")) if isinstance(item, Mapping) else (None, None)
        )
        if is_unknown(region):
            continue  # known at `up`, checked then by FSx (InvalidRegion)
        if is_unknown(kms):
            kms = None
        if not isinstance(region, str) or not REGION_RE.match(region):
            failures.append(Failure(prop, f"{item!r} is not a region name such as us-west-2"))
            continue
        if region in seen:
            failures.append(Failure(prop, f"{region} is listed twice; one copy per region"))
        seen.add(region)
        # A region newer than the installed botocore has no known partition here (the provider warns).
        partitions_known = region in known_regions and source_region in known_regions
        if partitions_known and partition_of(region) != partition_of(source_region):
            failures.append(
                Failure(
                    prop,
                    f"{region} is in partition {partition_of(region)} but the backup is in "
                    f"{source_region} ({partition_of(source_region)}); FSx copies backups within one "
                    "partition only",
                )
            )
        if kms is not None:
            match = KMS_KEY_RE.match(kms) if isinstance(kms, str) else None
            if match is None:
                failures.append(
                    Failure(prop, f"kms_key_id {kms!r} for {region} is not a KMS key ID, alias or ARN")
                )
            elif match.group("region") and match.group("region") != region:
                failures.append(
                    Failure(
                        prop,
                        f"kms_key_id for {region} is a key of {match.group('region')}; the copy is "
                        f"encrypted in {region}, so give a key of {region}",
                    )
                )
    return failures
