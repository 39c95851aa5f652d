"""What `pulumi preview` checks (check()): the pure rules of eligibility.py over every known input,
then the target's facts (lookups.py, read-only and coalesced). Unknown values are not judged."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Mapping

from . import eligibility, fsx
from .changes import same_generation
from .connection import AwsSettings, settings_from_input
from .eligibility import DEFAULT_TIMEOUT_SECONDS, Failure, FileSystemFacts, VolumeFacts, is_unknown
from .errors import CredentialsError
from .runtime import Env
from .state import (
    AWS,
    COPY_TO_REGIONS,
    KEEP_LAST,
    REGION,
    RESOURCE_URN,
    TAGS,
    TARGET_FACTS,
    TARGET_FILE_SYSTEM_ID,
    TARGET_VOLUME_ID,
    TIMEOUT_SECONDS,
    destinations,
    explicit_region,
)

NOT_FOUND_ADVICE = (
    ". A target in another account or region: give it as a pulumi_aws resource read with its AWS "
    "provider, or pass `providers=[...]`; a provider that assumes a role also needs `assume_roles=` "
    "(README \"Which account and region\")"
)
NO_REGION = (
    "no AWS region is set: set the `region` input, `pulumi config set aws:region <region>`, or AWS_REGION"
)


def check(olds: Mapping[str, Any], news: Mapping[str, Any], env: Env) -> tuple[dict[str, Any], list[Failure]]:
    """The inputs to record (the default timeout filled in) and every failure that can be known now.

    An existing backup that stays the same generation makes no new backup, so its target is not
    looked up again: a backup outlives its file system, and must not block `up` then."""
    inputs = dict(news)
    inputs.setdefault(TIMEOUT_SECONDS, DEFAULT_TIMEOUT_SECONDS)
    return inputs, check_inputs(inputs, env, look_up_target=not same_generation(olds, inputs))


def check_inputs(inputs: Mapping[str, Any], env: Env, *, look_up_target: bool = True) -> list[Failure]:
    """Every failure of these inputs that can be known now. ``look_up_target=False`` skips reading the
    target (an existing backup of the same generation: a backup outlives its file system)."""
    fs_id, vol_id = inputs.get(TARGET_FILE_SYSTEM_ID), inputs.get(TARGET_VOLUME_ID)
    failures = eligibility.check_target_choice(
        file_system_id=fs_id,
        volume_id=vol_id,
        file_system_known=not is_unknown(fs_id),
        volume_known=not is_unknown(vol_id),
    )
    if fs_id is not None and not is_unknown(fs_id):
        failures += eligibility.check_file_system_id(fs_id)
    if vol_id is not None and not is_unknown(vol_id):
        failures += eligibility.check_volume_id(vol_id)
    tags = inputs.get(TAGS)
    if not is_unknown(tags) and not (isinstance(tags, Mapping) and any(is_unknown(v) for v in tags.values())):
        failures += eligibility.check_tags(tags)
    timeout = inputs.get(TIMEOUT_SECONDS)
    if not is_unknown(timeout):
        failures += eligibility.check_timeout(timeout)
    keep_last = inputs.get(KEEP_LAST)
    if not is_unknown(keep_last):
        copies_given = inputs.get(COPY_TO_REGIONS)
        failures += eligibility.check_keep_last(
            keep_last, tags=None if is_unknown(tags) else tags, copy_to_regions=None if is_unknown(copies_given) else copies_given
        )
    given, settings_failures = settings_from_input(inputs.get(AWS))
    failures += settings_failures + list(env.config_failures)
    region_input = inputs.get(REGION)
    aws = inputs.get(AWS)
    if is_unknown(region_input) or is_unknown(aws) or (isinstance(aws, Mapping) and is_unknown(aws.get("region"))):
        # Where the backup will be taken is not known yet (a target still being created): judge
        # what is known of the target itself.
        return failures + (_facts_failures(inputs) if _target_unknown(inputs) else [])
    failures += eligibility.check_region_syntax(region_input)
    if failures:
        return failures
    settings = env.settings(given)
    region = env.region(explicit_region(region_input), settings)
    if region is None:
        return [Failure("region", NO_REGION)]
    failures += eligibility.check_region_syntax(region)
    if failures:
        return failures
    copies = inputs.get(COPY_TO_REGIONS)
    if not is_unknown(copies):
        failures += eligibility.check_copy_destinations(
            copies, source_region=region, known_regions=fsx.known_regions(), partition_of=fsx.partition_of
        )
    wanted = [] if is_unknown(copies) else [d["region"] for d in destinations(copies)]
    _warn_unknown_regions(inputs, [region, *wanted], env)
    if not look_up_target:
        return failures
    return failures + _target_failures(inputs, region, settings, env)


def _warn_unknown_regions(inputs: Mapping[str, Any], regions: list[Any], env: Env) -> None:
    """A well-formed region botocore does not know may be newer than the installed botocore, or
    one of a new partition: say so, and let FSx answer for it."""
    known = fsx.known_regions()
    urn = inputs.get(RESOURCE_URN)
    for region in dict.fromkeys(r for r in regions if isinstance(r, str) and r not in known):
        env.log.warn(
            urn if isinstance(urn, str) else "",
            f"region {region!r} is not in the installed botocore's list of FSx regions; going on "
            "(upgrade boto3/botocore if FSx cannot be reached there)",
        )


def _target_failures(inputs: Mapping[str, Any], region: str, settings: AwsSettings, env: Env) -> list[Failure]:
    fs_id, vol_id = inputs.get(TARGET_FILE_SYSTEM_ID), inputs.get(TARGET_VOLUME_ID)
    if _target_unknown(inputs):
        return _facts_failures(inputs)
    prop = "volume_id" if vol_id is not None else "file_system_id"
    target = str(vol_id or fs_id)
    acting_as = settings.describe()
    where = f"region {region}" + (f" as {acting_as}" if acting_as else "")
    try:
        # Inside the try: assuming a role happens here, and a refusal is the preview's failure.
        lookups = env.runtime.lookups(fsx.client_for(region, settings))
        if vol_id is not None:
            volume = lookups.volume(vol_id)
            if volume is None:
                return [Failure(prop, f"{vol_id} was not found in {where}{NOT_FOUND_ADVICE}")]
            return eligibility.check_volume(volume)
        file_system = lookups.file_system(str(fs_id))
        if file_system is None:
            return [Failure(prop, f"{fs_id} was not found in {where}{NOT_FOUND_ADVICE}")]
        return eligibility.check_file_system(file_system)
    except CredentialsError as exc:
        return [Failure("assume_roles" if exc.role_arn else "profile", f"cannot look up {target} in {where}: {exc}")]
    except Exception as exc:  # noqa: BLE001 - a look-up problem is reported, not a crash
        problem = fsx.as_package_error(exc, target, "Describe")
        return [Failure(prop, f"could not look up {target} in {where}: {problem}")]


def _target_unknown(inputs: Mapping[str, Any]) -> bool:
    return is_unknown(inputs.get(TARGET_FILE_SYSTEM_ID)) or is_unknown(inputs.get(TARGET_VOLUME_ID))


def _facts_failures(inputs: Mapping[str, Any]) -> list[Failure]:
    """A target still being created: judged from its known inputs (deployment type, S3 paths...)."""
    facts = inputs.get(TARGET_FACTS)
    facts = facts if isinstance(facts, Mapping) else {}
    known_facts = {k: v for k, v in facts.items() if not is_unknown(v)}
    if inputs.get(TARGET_VOLUME_ID) is not None:
        return eligibility.check_volume(VolumeFacts(**_pick(known_facts, VolumeFacts)))
    return eligibility.check_file_system(FileSystemFacts(**_pick(known_facts, FileSystemFacts)))


def _pick(values: Mapping[str, Any], cls: type) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in values.items() if k in names}
