"""What a change of inputs means for a stored backup (pure): a new target is an update that takes a
backup of the new target (retargeting), new triggers replace the backup, tags and copies are updated
in place, and a source deleted outside Pulumi is replaced."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from . import fsx
from .eligibility import is_unknown
from .state import (
    AWS,
    COPIES,
    COPY_TAGS,
    COPY_TO_REGIONS,
    DELETE_SUPERSEDED,
    KEEP_LAST,
    LIFE,
    LIFECYCLE,
    MANAGED_TAGS,
    REGION,
    RESOLVED_REGION,
    RESOURCE_URN,
    ROTATION,
    TAGS,
    TARGET_FACTS,
    TARGET_FILE_SYSTEM_ID,
    TARGET_VOLUME_ID,
    TIMEOUT_SECONDS,
    TRIGGERS,
    copy_key,
    copy_key_of,
    destinations,
)

# A new target (another file system or volume, or another region) is an update that takes a backup of
# the new target and keeps the old backup, the only copy of the old target's data (tagged
# backups.SUPERSEDED_TAG_KEY), unless `delete_superseded` is set.
TARGET_KEYS = (TARGET_FILE_SYSTEM_ID, TARGET_VOLUME_ID)
# New triggers are a rotation the user asked for: a new backup replaces the old one.
REPLACE_KEYS = (TRIGGERS,)
GENERATION_KEYS = TARGET_KEYS + REPLACE_KEYS


@dataclass(frozen=True)
class Diff:
    """The engine's answer to diff(): which inputs changed, which of them replace the resource."""

    changed: list[str] = field(default_factory=list)
    replaces: list[str] = field(default_factory=list)
    retargeted: bool = False

    @property
    def stables(self) -> list[str]:
        # resource_urn and __provider never cause a diff: same resource, same provider class. A
        # retargeted backup gets a new backup_id within the same resource.
        return [RESOURCE_URN] if self.retargeted else [RESOURCE_URN, "backup_id", "backup_arn"]


def diff(olds: Mapping[str, Any], news: Mapping[str, Any]) -> Diff:
    """Compare a stored state (old outputs, inputs echoed) with new inputs."""
    retargeted = [k for k in TARGET_KEYS if changed(olds.get(k), news.get(k))]
    if region_moved(olds, news):
        retargeted.append(REGION)
    replaces = [] if retargeted else [k for k in REPLACE_KEYS if changed(olds.get(k), news.get(k))]
    if olds.get(LIFECYCLE) == fsx.BACKUP_DELETED_STATE:
        replaces.append(LIFECYCLE)  # source deleted outside Pulumi, copies kept: a new generation
    found = list(replaces) + retargeted
    if REGION not in found and changed(olds.get(REGION), news.get(REGION)):
        found.append(REGION)  # the region named where the backup already is: recorded in place
    for key in (LIFE, DELETE_SUPERSEDED, KEEP_LAST, ROTATION):
        if changed(olds.get(key), news.get(key)):
            found.append(key)
    if aws_settings_changed(olds, news):
        found.append(AWS)
    new_tags = news.get(TAGS)
    if is_unknown(new_tags) or tags_differ(olds, new_tags):
        found.append(TAGS)
    for key in (TIMEOUT_SECONDS, TARGET_FACTS):
        if changed(olds.get(key), news.get(key)):
            found.append(key)
    if copies_differ(olds, news):
        found.append(COPY_TO_REGIONS)
    if changed(olds.get(COPY_TAGS), news.get(COPY_TAGS)):
        found.append(COPY_TAGS)  # applies to copies made from now on
    return Diff(changed=found, replaces=replaces, retargeted=bool(retargeted))


def retargets(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    """An update that backs up a new target (the old source still exists: else it is a replace)."""
    return olds.get(LIFECYCLE) != fsx.BACKUP_DELETED_STATE and (
        any(changed(olds.get(k), news.get(k)) for k in TARGET_KEYS) or region_moved(olds, news)
    )


def same_generation(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    """An existing backup whose target and triggers stay: no new backup will be made."""
    return (
        bool(olds)
        and not any(changed(olds.get(k), news.get(k)) for k in GENERATION_KEYS)
        and not region_moved(olds, news)
    )


def region_moved(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    """The backup would now be taken in another region: the `region` input, else the region of the
    target's (or the component's) AWS provider, differs from the region of the stored backup. Neither
    set: the stack config decides, as before, so only a change of the `region` input counts."""
    wanted = news.get(REGION) or _provider_region(news.get(AWS))
    if is_unknown(wanted):
        return True
    if not wanted:
        return changed(olds.get(REGION), news.get(REGION))
    where = olds.get(RESOLVED_REGION) or olds.get(REGION)
    return bool(where) and where != wanted


def aws_settings_changed(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    """The settings to reach the backup with changed (recorded by an update, no AWS call). A region
    that only names where the backup already is is no change: a state written before the `aws` input
    existed, whose target was always in that region, is not updated for it."""
    old, new = olds.get(AWS), news.get(AWS)
    if is_unknown(new) or (isinstance(new, Mapping) and any(is_unknown(v) for v in new.values())):
        return True
    where = olds.get(RESOLVED_REGION)
    return _with_region(old, where) != _with_region(new, where)


def _with_region(aws: Any, where: Any) -> Any:
    settings = {k: v for k, v in dict(aws or {}).items() if _normalize(v) is not None}
    if where and settings.get(REGION) in (None, where):
        settings.pop(REGION, None)
    return settings


def _provider_region(aws: Any) -> Any:
    if is_unknown(aws):
        return aws
    return aws.get(REGION) if isinstance(aws, Mapping) else None


def changed(old: Any, new: Any) -> bool:
    if is_unknown(new):
        return True
    return _normalize(old) != _normalize(new)


def _normalize(value: Any) -> Any:
    # Empty and absent mean the same to the user (an empty map of triggers is no triggers).
    if value in (None, {}, [], ""):
        return None
    return value


def tags_differ(olds: Mapping[str, Any], new_tags: Any) -> bool:
    """Tags need an update when the user's tags changed, or when managed tags drifted in AWS
    (refresh writes what AWS reports into `tags`)."""
    new_tags = _normalize(new_tags)
    managed = _normalize(olds.get(MANAGED_TAGS))
    if new_tags != managed:
        return True
    if new_tags is None:
        return False
    return _normalize(olds.get(TAGS)) != new_tags


def copies_differ(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    """Wanted destinations differ from the copies in state (a change of input, or a copy deleted
    outside Pulumi and dropped by refresh)."""
    new_value = news.get(COPY_TO_REGIONS)
    if is_unknown(new_value):
        return True
    wanted = sorted(copy_key(d) for d in destinations(new_value))
    have = sorted(copy_key_of(c) for c in olds.get(COPIES) or [])
    return wanted != have
