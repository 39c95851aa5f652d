"""Mutation check: plant realistic one-line bugs in the package, one at a time, and see whether the
relevant tests notice (issue 14 B; the last result is in docs/testing.md, "Mutation check").

Each mutant is (id, file, the exact original text, its replacement, why the bug is realistic, the
pytest selection of the tests that should kill it). The original must occur exactly once in the
file, so the list fails loudly when the code moves on without it.

The working tree is never touched. For each mutant the package is copied to a fresh temporary
directory (``<tmp>/fsx_backup_component``), the bug is planted there, and the selection runs as

    python -m pytest <selection> -x -q -p no:cacheprovider -n 0 -p fsx_backup_component.testing.pytest_plugin

with ``PYTHONPATH=<tmp>`` and ``PYTHONSAFEPATH=1``. The PYTHONPATH entry comes before the editable
install's finder (which sits at the end of ``sys.meta_path``); PYTHONSAFEPATH keeps the current
directory (the repository, where the real package lives) off the front of ``sys.path``; and the
``-p`` option imports the package as pytest's first plugin, before tests/conftest.py puts the
repository root on ``sys.path``. Every later import of the package, in the tests and in the provider
host processes the engine harness starts (they inherit the environment), is then the mutant's.
``--self-check`` proves it: it plants a bug that breaks every create, once for a unit test (in the
pytest process) and once for an end-to-end test (in the provider host), and both must fail.

Results: KILLED (a test failed), SURVIVED (all passed), TIMEOUT (no result within ``--timeout``; a
run whose output already shows a failure counts as killed), ERROR (pytest could not run the
selection, e.g. nothing collected). The table ends with "killed K of N (P%)".

Usage::

    .venv/bin/python tools/mutate.py --list
    .venv/bin/python tools/mutate.py                     # every mutant, one at a time (~1 h on 2 cores)
    .venv/bin/python tools/mutate.py --only lookup-window-0 delete-region-from-config
    .venv/bin/python tools/mutate.py --self-check        # the mutant really is what the tests import
    .venv/bin/python tools/mutate.py --baseline          # the selections pass on the unmutated code
    .venv/bin/python tools/mutate.py --per-file --only ID  # which test files (layers) notice it
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "fsx_backup_component"
PACKAGE_DIR = REPO / PACKAGE

# Test selections, by feature (paths and node IDs relative to the repository root).
U = "tests/unit/"
E = "tests/e2e/"
R = "tests/reliability/"
N = "tests/native/"
C = "tests/component/test_component.py"
HARSH = E + "test_harsher_world.py"


@dataclass(frozen=True)
class Mutant:
    id: str
    file: str  # relative to the package directory
    original: str  # exact text on one line; must occur exactly once in the file
    replacement: str
    why: str  # why such a bug is realistic
    tests: tuple[str, ...]  # the pytest selection: the relevant tests


MUTANTS: tuple[Mutant, ...] = (
    # -- survivors of the first measurement (issue 14 B) ----------------------------------------
    Mutant(
        "lookup-window-0", "watcher.py",
        "window: float = 0.05,", "window: float = 0.0,",
        "'no need to wait' tuning of the preview look-up batching window: concurrent checks then make "
        "one DescribeFileSystems each instead of one between them",
        (U + "test_watcher.py", U + "test_lookups.py", U + "test_provider.py", E + "test_preview_eligibility.py"),
    ),
    Mutant(
        "token-tag-adopts-copy", "records.py",
        'if token in wanted and not backup.get("SourceBackupId"):', "if token in wanted:",
        "the copy check looks redundant: an in-region copy made with CopyTags carries the source's "
        "token tag and would be adopted as the backup itself",
        (U + "test_fsx.py", U + "test_backups.py", E + "test_e2e_copies.py"),
    ),
    Mutant(
        "poll-client-10-retries", "fsx.py",
        'retries={"mode": "standard", "total_max_attempts": 2},',
        'retries={"mode": "standard", "total_max_attempts": 10},',
        "copy-paste of RETRY_CONFIG into the polling client: one throttled poll then holds every "
        "waiting create for botocore's full backoff",
        (U + "test_fsx.py", U + "test_runtime.py", R + "test_transient_faults.py"),
    ),
    Mutant(
        "progress-no-rate-limit", "progress.py",
        "min_interval: float = 10.0,", "min_interval: float = 0.0,",
        "'show every update' default for progress: one engine message per poll",
        (U + "test_progress_reporting.py", E + "test_progress.py"),
    ),
    Mutant(
        "keep-last-ignores-age", "backups.py",
        'mine.sort(key=lambda b: (b["BackupId"] == keep_id, creation_epoch(b)), reverse=True)',
        'mine.sort(key=lambda b: b["BackupId"] == keep_id, reverse=True)',
        "pruning trusts FSx's listing order, which is not promised: keep_last may keep old backups "
        "and delete new ones",
        (U + "test_prechange_guard.py", E + "test_prechange.py"),
    ),
    Mutant(
        "delete-missing-raises", "fsx.py",
        'if code == "BackupNotFound":', 'if code == "NotFound":',
        "wrong error code name (the generic NotFound): deleting a backup already gone fails destroy",
        (U + "test_fsx.py", U + "test_backups.py", U + "test_provider.py", E + "test_destroy.py"),
    ),
    Mutant(
        "destroy-leaves-copies", "resource.py",
        "remove_copies(list(state.get(COPIES) or []), client_for=clients, deadline=deadline, runtime=env.runtime)",
        "pass  # the copies are not deleted",
        "a refactor of delete() forgets the copies: destroy leaves them behind in other regions",
        (U + "test_provider.py", U + "test_copies.py", E + "test_e2e_copies.py"),
    ),
    Mutant(
        "delete-region-from-config", "resource.py",
        "region = state.get(RESOLVED_REGION) or env.region(stored.region, settings)",
        "region = env.region(stored.region, settings)",
        "delete trusts the current config (aws:region) instead of the region the backup was made in",
        (U + "test_provider.py", E + "test_destroy.py"),
    ),
    Mutant(
        "poll-one-per-backup", "runtime.py",
        "found = self._watchers.get(id(client))", "found = None",
        "a watcher per wait instead of one per region: one DescribeBackups per backup per round",
        (U + "test_runtime.py", U + "test_watcher.py", E + "test_host_internals.py"),
    ),
    Mutant(
        "poll-batch-of-one", "watcher.py",
        "pending = [w for w in self._watches.values() if not w.settled]",
        "pending = [w for w in self._watches.values() if not w.settled][:1]",
        "a poll round asks about one waiting backup: the others wait for later rounds",
        (U + "test_watcher.py", U + "test_runtime.py", E + "test_host_internals.py"),
    ),
    # -- issue 14 A ------------------------------------------------------------------------------
    Mutant(
        "first-page-only", "fsx.py",
        "for page in client.get_paginator(operation).paginate(**request):",
        "for page in list(client.get_paginator(operation).paginate(**request))[:1]:",
        "reading one page of a Describe*: FSx may page any answer, look-ups by IDs included",
        (U + "test_fsx.py", HARSH + "::test_thirty_file_systems_answered_in_pages_of_seven"),
    ),
    Mutant(
        "dra-first-page-only", "fsx.py",
        'next_token = page.get("NextToken")', "next_token = None",
        "the hand-written page loop (no botocore paginator for DescribeDataRepositoryAssociations) "
        "stops after one page",
        (U + "test_fsx.py", U + "test_lookups.py", E + "test_preview_eligibility.py"),
    ),
    Mutant(
        "managed-tags-not-secret", "component.py",
        '"managed_tags": ("tags",),', "# managed_tags: derived from tags",
        "a new derived output not added to additional_secret_outputs: secret tags in plain text in state",
        (C, HARSH + "::test_secret_tags_and_kms_key_never_reach_the_state_in_plain_text"),
    ),
    Mutant(
        "copies-not-secret", "component.py",
        '"copies": ("copy_to_regions",),', "# copies: derived from copy_to_regions",
        "the copies' requested KMS key (from a secret copy_to_regions) stored in plain text",
        (C, HARSH + "::test_secret_tags_and_kms_key_never_reach_the_state_in_plain_text"),
    ),
    Mutant(
        "life-not-in-token", "token.py",
        'material["life"] = life', "pass",
        "the life nonce left out of the token material: a new life adopts a retained backup",
        (U + "test_token.py", U + "test_backups.py", U + "test_provider.py",
         HARSH + "::test_a_retained_backup_is_not_adopted_by_the_next_life"),
    ),
    Mutant(
        "prechange-stale-rule-off", "prechange.py",
        "is_stale=self._older_than_newest,", "is_stale=None,",
        "the stale rule dropped: a change repeated later adopts the backup of the first time",
        (U + "test_prechange_guard.py", E + "test_prechange_harsher.py"),
    ),
    Mutant(
        "prune-not-best-effort", "backups.py",
        "refused.append((backup_id, str(exc)))", "raise",
        "pruning errors propagate: a refused DeleteBackup of an old backup fails the change",
        (U + "test_prechange_guard.py", E + "test_prechange.py"),
    ),
    Mutant(
        "host-widening-unguarded", "host.py",
        "except Exception as exc:  # noqa: BLE001 - see the docstring: slower, never broken",
        "except LookupError as exc:  # noqa: BLE001 - see the docstring: slower, never broken",
        "only the 'no pool found' case guarded: a pool without the private attributes breaks the import",
        (U + "test_host.py", HARSH + "::test_a_host_pool_without_private_attributes_still_works_and_warns"),
    ),
    Mutant(
        "host-limit-not-restored", "host.py",
        "pool._max_workers = original", "pass",
        "a failed widening leaves the raised limit with no workers started (credits without threads)",
        (U + "test_host.py", E + "test_host_internals.py"),
    ),
    Mutant(
        "host-no-prespawn", "host.py",
        "_start_workers(pool)", "pass",
        "raising _max_workers alone looks enough; queued calls then wait behind blocked creates",
        (U + "test_host.py", E + "test_host_internals.py"),
    ),
    Mutant(
        "sdk-tracking-off", "sdk_tracking.py",
        "        for task in outputs.difference(before):", "        for task in ():",
        "the component's Outputs stay in the SDK's quadratic end-of-program wait (256 backups: 4.6x)",
        ("tests/component/test_output_tracking.py", U + "test_sdk_tracking.py"),
    ),
    Mutant(
        "sdk-tracking-everything", "sdk_tracking.py",
        "        for task in outputs.difference(before):", "        for task in list(outputs):",
        "untracks the program's own Outputs too: a fault in one of them would no longer fail the program",
        ("tests/component/test_output_tracking.py", U + "test_sdk_tracking.py"),
    ),
    Mutant(
        "copied-tags-one-call-each", "lookups.py",
        "describe=current.get", "describe=None",
        "each create describes its target alone: 256 creates, 256 DescribeVolumes in a burst",
        (U + "test_listing_batches.py",),
    ),
    Mutant(
        "copied-tags-own-call", "backups.py",
        "runtime.lookups(client).tags_copied_to_backups(", "fsx.tags_copied_to_backups(client, ",
        "a create reads its target's tags to copy on its own, not with the creates of its moment",
        (E + "test_copied_tags.py", U + "test_backups.py"),
    ),
    Mutant(
        "copied-tags-cached", "lookups.py",
        "window=DESCRIBE_WINDOW, ttl=0.0", "window=DESCRIBE_WINDOW, ttl=60.0",
        "the tags to copy come from a description up to a minute old: tags changed since are missed",
        (U + "test_listing_batches.py",),
    ),
    Mutant(
        "region-regex-strict", "eligibility.py",
        r'REGION_RE = re.compile(r"^[a-z]{2,}(-[a-z]+)+-\d{1,2}\Z")',
        r'REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")',
        "the old pattern: refuses eusc-de-east-1 and accepts a final newline",
        (U + "test_eligibility.py", U + "test_provider.py", HARSH + "::test_a_well_formed_region_is_accepted_and_an_unknown_one_warned_about"),
    ),
    Mutant(
        "transient-retry-off", "fsx.py",
        "TRANSIENT_RETRY = TransientRetry()", "TRANSIENT_RETRY = TransientRetry(budget_seconds=0)",
        "the app-level retry left switched off (as in the unit tests): a throttling storm fails `up`",
        (U + "test_fsx.py", R + "test_throttle_storm.py", R + "test_transient_faults.py"),
    ),
    Mutant(
        "delete-superseded-ignored", "resource.py",
        "if request.delete_superseded:", "if False:",
        "the opt-in is never read: the old backup is kept although the user asked to delete it",
        (U + "test_provider.py", HARSH + "::test_delete_superseded_opts_in_to_deleting_the_old_backup"),
    ),
    Mutant(
        "superseded-deleted-by-default", "component.py",
        "delete_superseded: bool = False", "delete_superseded: bool = True",
        "the default flipped: the only backup of a replaced file system is deleted",
        (C, U + "test_provider.py", HARSH + "::test_a_new_target_keeps_the_old_backup_tagged_superseded"),
    ),
    Mutant(
        "retarget-replaces", "changes.py",
        "replaces = [] if retargeted else [k for k in REPLACE_KEYS if changed(olds.get(k), news.get(k))]",
        "replaces = retargeted + [k for k in REPLACE_KEYS if changed(olds.get(k), news.get(k))]",
        "a new target treated as a replacement (the old behaviour): the old backup is deleted at the end of `up`",
        (U + "test_provider.py", HARSH + "::test_a_new_target_keeps_the_old_backup_tagged_superseded"),
    ),
    Mutant(
        "failed-marked-adopted", "backups.py",
        'if backup["Lifecycle"] in (fsx.BACKUP_DELETED_STATE, fsx.BACKUP_FAILED_STATE):',
        'if backup["Lifecycle"] == fsx.BACKUP_DELETED_STATE:',
        "only DELETED is skipped: a FAILED backup found by its token tag is adopted",
        (U + "test_backups.py", E + "test_failures.py"),
    ),
    # -- classics --------------------------------------------------------------------------------
    Mutant(
        "describe-batch-51", "fsx.py",
        "DESCRIBE_BATCH = 50", "DESCRIBE_BATCH = 51",
        "off by one in the batch size: 51 IDs per Describe* (the model allows 50)",
        (U + "test_fsx.py", U + "test_watcher.py"),
    ),
    Mutant(
        "dra-filter-21", "fsx.py",
        "DRA_FILTER_VALUES = 20", "DRA_FILTER_VALUES = 21",
        "off by one in the filter values per DescribeDataRepositoryAssociations call",
        (U + "test_fsx.py",),
    ),
    Mutant(
        "copied-tags-50", "fsx.py",
        "return dict(sorted(tags.items())[: MAX_BACKUP_TAGS - 1])",
        "return dict(sorted(tags.items())[: MAX_BACKUP_TAGS])",
        "off by one: 50 copied tags plus the token tag is 51, one more than FSx accepts",
        (U + "test_fsx.py", U + "test_backups.py"),
    ),
    Mutant(
        "max-user-tags-50", "eligibility.py",
        "MAX_USER_TAGS = MAX_TAGS_PER_BACKUP - RESERVED_TAG_COUNT", "MAX_USER_TAGS = MAX_TAGS_PER_BACKUP",
        "the reserved token tag forgotten: 50 user tags pass preview and CreateBackup fails",
        (U + "test_eligibility.py", R + "test_bad_input.py"),
    ),
    Mutant(
        "settled-without-failed", "runtime.py",
        "SETTLED = (fsx.BACKUP_DONE_STATE, fsx.BACKUP_FAILED_STATE)", "SETTLED = (fsx.BACKUP_DONE_STATE,)",
        "wrong lifecycle constant: a FAILED backup is waited on until the deadline",
        (U + "test_runtime.py", U + "test_backups.py", E + "test_failures.py"),
    ),
    Mutant(
        "updating-refused", "eligibility.py",
        'BACKUP_READY_FILE_SYSTEM_STATES = frozenset({"AVAILABLE", "UPDATING"})',
        'BACKUP_READY_FILE_SYSTEM_STATES = frozenset({"AVAILABLE"})',
        "a file system being UPDATING refused at preview, although FSx queues the backup",
        (U + "test_eligibility.py", U + "test_provider.py", E + "test_preview_eligibility.py"),
    ),
    Mutant(
        "eligibility-not-dropped", "eligibility.py",
        "if facts.lifecycle is not None and facts.lifecycle not in BACKUP_READY_FILE_SYSTEM_STATES:",
        "if facts.lifecycle is not None and facts.lifecycle in BACKUP_READY_FILE_SYSTEM_STATES:",
        "a `not` dropped in eligibility: AVAILABLE file systems refused, CREATING/FAILED ones accepted",
        (U + "test_eligibility.py", U + "test_provider.py", E + "test_preview_eligibility.py"),
    ),
    Mutant(
        "poll-interval-fast", "watcher.py",
        "return min(60.0, max(0.5, age_seconds / 30.0))", "return min(60.0, max(0.5, age_seconds / 3.0))",
        "wrong divisor in the poll interval: a two-hour backup polled ten times as often",
        (U + "test_watcher.py",),
    ),
    Mutant(
        "busy-pause-not-growing", "backups.py",
        "pause = min(BUSY_MAX_WAIT, pause * 1.5)", "pause = min(BUSY_MAX_WAIT, pause)",
        "no backoff while FSx answers BackupInProgress: a request every 5 s for hours",
        (U + "test_backups.py", R + "test_service_answers.py"),
    ),
    Mutant(
        "retry-everything", "fsx.py",
        "if not is_transient(exc) or self.clock() + pause > give_up_at:",
        "if self.clock() + pause > give_up_at:",
        "every error retried for five minutes, AccessDenied and validation errors included",
        (U + "test_fsx.py", R + "test_transient_faults.py"),
    ),
    Mutant(
        "tags-never-removed", "backups.py",
        "to_remove = {k for k in stale if k in current}", "to_remove: set[str] = set()",
        "tag reconciliation only adds: a tag removed from the program stays on the backup",
        (U + "test_backups.py", U + "test_provider.py", E + "test_lifecycle.py"),
    ),
    Mutant(
        "life-never-replaced", "life.py",
        "changes=changed, replaces=[GENERATION] if changed else [], stables=[NONCE], delete_before_replace=False",
        "changes=changed, replaces=[], stables=[NONCE], delete_before_replace=False",
        "a new generation updates the life in place: it keeps its nonce, so triggers A->B->A adopt A's backup",
        (U + "test_life.py", HARSH + "::test_triggers_a_b_a_with_retention_make_three_backups"),
    ),
    Mutant(
        "failed-copy-adopted", "copies.py",
        'if existing is not None and existing["Lifecycle"] != fsx.BACKUP_FAILED_STATE:',
        "if existing is not None:",
        "a FAILED copy found by its SourceBackupId adopted as the copy",
        (U + "test_copies.py", E + "test_e2e_copies.py"),
    ),
    # -- following the target's AWS provider (issue 11) -------------------------------------------
    Mutant(
        "component-provider-first", "component.py",
        "providers = [p for p in (target_provider, own_provider) if p is not None]",
        "providers = [p for p in (own_provider, target_provider) if p is not None]",
        "two providers in the wrong order: the component's profile wins over the one that owns the target",
        ("tests/component/test_component_aws_provider.py", E + "test_aws_provider.py"),
    ),
    Mutant(
        "target-region-ignored", "component.py",
        'regions += [getattr(target, "region", None), _provider_output(target_provider, "region"),',
        "regions += [None, None,",
        "only the ARN read for the target's region (the original bug: the stack's region was used)",
        ("tests/component/test_component_aws_provider.py", E + "test_aws_provider.py"),
    ),
    Mutant(
        "settings-precedence-reversed", "connection.py",
        "**{f.name: getattr(self, f.name) or getattr(fallback, f.name) for f in fields(AwsSettings)}",
        "**{f.name: getattr(fallback, f.name) or getattr(self, f.name) for f in fields(AwsSettings)}",
        "the stack config layered over the provider's settings instead of under them",
        (U + "test_connection.py", U + "test_provider.py", E + "test_aws_provider.py"),
    ),
    Mutant(
        "static-keys-ignored", "connection.py",
        "if static_in and not is_unknown(static_in):", "if False:",
        "the static-key check dropped as 'we never read the keys anyway'",
        (U + "test_connection.py", "tests/component/test_component_aws_provider.py", E + "test_aws_provider.py"),
    ),
    Mutant(
        "assumed-role-not-installed", "fsx.py",
        "session = boto3.session.Session(botocore_session=assumed)",
        "session = boto3.session.Session(botocore_session=core)",
        "the role is assumed but the session keeps its cached source credentials",
        (U + "test_fsx_identity.py", E + "test_aws_provider.py"),
    ),
    Mutant(
        "credentials-refresh-real-clock", "fsx.py",
        "time_fetcher=lambda: CREDENTIALS_CLOCK(),", "time_fetcher=_utc_now,",
        "the injected clock dropped: refresh then never happens on the emulator's clock (an untested expiry)",
        (U + "test_fsx_identity.py",),
    ),
    Mutant(
        "region-move-ignored", "changes.py",
        "if region_moved(olds, news):", "if False:",
        "only the `region` argument counted as a move: a provider now in another region keeps the old backup",
        (U + "test_provider.py",),
    ),
    Mutant(
        "guard-ignores-resource-region", "prechange.py",
        'region = self.region or old.get("region") or connection.arn_region(old.get("arn")) or region',
        "region = self.region or region",
        "the guard reads only its own settings: a guarded file system in another region is not found",
        (U + "test_prechange_guard.py", E + "test_aws_provider.py"),
    ),
    Mutant(
        "delete-with-default-identity", "resource.py",
        "settings = env.settings(stored.settings)", "settings = env.config",
        "delete reaches the backup with the stack's defaults, not the settings it was made with",
        (E + "test_aws_provider.py",),
    ),
    Mutant(
        "copies-default-identity", "resource.py",
        "client_for=fsx.clients(settings), on_progress=reporter,", "client_for=fsx.client_for, on_progress=reporter,",
        "copies made with the default credentials in each destination",
        (E + "test_aws_provider.py", "tests/reliability/test_no_leaks.py"),
    ),
    Mutant(
        "stack-credentials-ignored", "provider.py",
        "self._config_region, self._config, self._config_failures = settings.region, settings, tuple(failures)",
        "self._config_region, self._config, self._config_failures = settings.region, connection.DEFAULT, ()",
        "configure() reads only aws:region, as it used to",
        (U + "test_provider.py",),
    ),
    # -- the native plugin (issue 21) --------------------------------------------------------------
    Mutant(
        "native-partial-not-resumed", "native/resources.py",
        "return bool(state.get(INTERRUPTED))", "return False",
        "the partial state looks like any other: the next `up` sees no change and never waits the backup out",
        (N + "test_native_plugin.py",),
    ),
    Mutant(
        "native-derived-not-secret", "native/resources.py",
        "if any(s in input_secret for s in sources):", "if False:",
        "only outputs of the same name as a secret input kept secret (the engine's rule for the dynamic host)",
        (N + "test_native_plugin.py",),
    ),
    Mutant(
        "native-cancel-ignored", "native/server.py",
        "self.cancellation.event.set()", "pass",
        "Cancel answered and ignored (what the SDK's own servers do with no provider.cancel): a cancelled "
        "`up` waits out every backup",
        (N + "test_native_plugin.py",),
    ),
    Mutant(
        "native-snake-messages", "native/resources.py",
        "answer = CheckAnswer(values, names, [Failure(engine_property(f.property), engine_text(f.reason)) for f in failures])",
        "answer = CheckAnswer(values, names, [Failure(f.property, f.reason) for f in failures])",
        "the core's Python names reach a TypeScript or YAML user (`file_system_id`)",
        (N + "test_native_plugin.py",),
    ),
    # keep_last (issue 23): the rotation of FsxBackup, shared with PreChangeBackup's pruning.
    Mutant(
        "rotation-replacement-as-destroy", "resource.py",
        "replaced=any(creation_epoch(b) > created for b in others),", "replaced=False,",
        "the old backup's Delete during a replacement taken for a destroy: the rotation's kept backups "
        "are all deleted at each trigger change",
        (E + "test_keep_last.py",),
    ),
    Mutant(
        "rotation-keeps-one-more", "backups.py",
        'beyond = [b["BackupId"] for b in mine[keep_last:]]', 'beyond = [b["BackupId"] for b in mine[keep_last + 1 :]]',
        "an off-by-one counting the new backup apart from the N kept",
        (U + "test_prechange_guard.py", E + "test_keep_last.py"),
    ),
    Mutant(
        "rotation-tag-shown", "records.py",
        "OWN_TAG_KEYS = frozenset({TOKEN_TAG_KEY, ROTATION_TAG_KEY})", "OWN_TAG_KEYS = frozenset({TOKEN_TAG_KEY})",
        "the new internal tag not hidden from `tags`: every `up` of a rotation sees drift and updates",
        (E + "test_keep_last.py",),
    ),
    Mutant(
        "ontap-plan-takes-svm-root", "eligibility.py",
        "elif volume.svm_root:", "elif False:",
        "the root volume of an SVM planned like a data volume: a guard on an ONTAP file system asks FSx "
        "to back up a volume with no data of its own",
        (U + "test_eligibility.py", E + "test_prechange_ontap.py"),
    ),
    Mutant(
        "ontap-volumes-share-tokens", "prechange.py",
        'generation_material["volume"] = volume_id', "pass",
        "the volumes of one ONTAP file system derive the same tokens: their concurrent CreateBackups "
        "collide on one token (IncompatibleParameterError) and race for the next ones",
        (E + "test_prechange_ontap.py",),
    ),
    Mutant(
        "destroy-leaves-rotation", "resource.py",
        "_, refused = remove_each(clients(region), rotation.others, deadline=deadline, runtime=env.runtime)",
        "refused: list[tuple[str, str]] = []",
        "destroy deletes the current backup only: the rotation's older backups are left in no stack",
        (E + "test_keep_last.py",),
    ),
)

# A bug that breaks every create: used by --self-check to prove the mutant is what runs.
CANARY = Mutant(
    "canary", "resource.py",
    '"""Take (or adopt) this generation\'s backup and its copies; return the state to store."""',
    'raise RuntimeError("mutation canary")',
    "self-check only",
    (),
)
CANARY_SELECTIONS = {
    "in the pytest process (unit)": (U + "test_provider.py::test_create_waits_for_available",),
    "in the provider host (e2e)": (E + "test_failures.py::test_destroy_then_up_takes_a_new_backup",),
    # The plugin puts its checkout on sys.path: a PYTHONPATH must still come first (provider/__main__.py).
    "in the native plugin": (N + "test_native_plugin.py::test_component_preview_writes_nothing_then_up_takes_one_available_backup",),
}


@dataclass
class Outcome:
    mutant: Mutant
    result: str  # KILLED | SURVIVED | TIMEOUT | ERROR
    seconds: float
    detail: str  # the first failing test, or why the run did not count


def mutated_text(mutant: Mutant, text: str) -> str:
    """``text`` with the mutant planted. Fails loudly when the original is not exactly once in the
    file (the list has fallen out of step with the code)."""
    if not mutant.original or "\n" in mutant.original or "\n" in mutant.replacement:
        raise SystemExit(f"mutant {mutant.id}: original and replacement must be one line each")
    count = text.count(mutant.original)
    if count != 1:
        raise SystemExit(
            f"mutant {mutant.id}: the original text occurs {count} times in {PACKAGE}/{mutant.file} "
            f"(expected exactly once); update tools/mutate.py:\n    {mutant.original}"
        )
    return text.replace(mutant.original, mutant.replacement)


def plant(mutant: Mutant, root: Path) -> None:
    """Apply ``mutant`` to the copy of the package under ``root``."""
    path = root / PACKAGE / mutant.file
    path.write_text(mutated_text(mutant, path.read_text(encoding="utf-8")), encoding="utf-8")


def check_all_plantable(mutants: Sequence[Mutant]) -> None:
    """Every mutant applies to the current code (read only: nothing is written)."""
    for mutant in mutants:
        mutated_text(mutant, (PACKAGE_DIR / mutant.file).read_text(encoding="utf-8"))


def _copy_package() -> Path:
    root = Path(tempfile.mkdtemp(prefix="fsx-mutant-"))
    shutil.copytree(PACKAGE_DIR, root / PACKAGE, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return root


def pytest_command(selection: Sequence[str]) -> list[str]:
    return [
        sys.executable, "-m", "pytest", *selection, "-x", "-q", "-p", "no:cacheprovider",
        # Serially (pyproject's addopts run the suite on 4 workers): a selection is a few files, `-x`
        # stops it at the first failure, and `--jobs` runs mutants side by side instead.
        "-n", "0",
        # Imported before tests/conftest.py puts the repository root first on sys.path: from here
        # on the package is the mutant's (see the module docstring).
        "-p", f"{PACKAGE}.testing.pytest_plugin",
    ]


def run_selection(mutant: Optional[Mutant], selection: Sequence[str], timeout: float) -> Outcome:
    """Run ``selection`` against a copy of the package with ``mutant`` planted (None: unmutated)."""
    shown = mutant or Mutant("baseline", "-", "", "", "", tuple(selection))
    root = _copy_package()
    try:
        if mutant is not None:
            plant(mutant, root)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(root), *filter(None, [os.environ.get("PYTHONPATH")])]),
            "PYTHONSAFEPATH": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        started = time.monotonic()
        process = subprocess.Popen(
            pytest_command(selection), cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, start_new_session=True,  # its own process group: a timeout ends the whole run
        )
        try:
            output, _ = process.communicate(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # pytest and the provider hosts it started
            output, _ = process.communicate()
            timed_out = True
        seconds = time.monotonic() - started
    finally:
        shutil.rmtree(root, ignore_errors=True)
    failed = _first_failure(output)
    if timed_out:
        if failed:
            return Outcome(shown, "KILLED", seconds, f"{failed} (then no result within {timeout:.0f}s)")
        return Outcome(shown, "TIMEOUT", seconds, f"no result within {timeout:.0f}s")
    code = process.returncode
    if code == 0:
        return Outcome(shown, "SURVIVED", seconds, _summary(output))
    if code in (1, 2) and (failed or "error" in output.lower()):
        return Outcome(shown, "KILLED", seconds, failed or _summary(output))
    return Outcome(shown, "ERROR", seconds, f"pytest exit code {code}: {_summary(output)}")


def _first_failure(output: str) -> str:
    match = re.search(r"^(?:FAILED|ERROR) (.+?)(?: - |$)", output, re.MULTILINE)
    return match.group(1) if match else ""


def _summary(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return lines[-1].strip("= ") if lines else "(no output)"


def self_check(timeout: float) -> bool:
    """The canary bug must fail a unit test (pytest's own process), an e2e test (provider host) and a
    native test (the plugin process)."""
    ok = True
    for where, selection in CANARY_SELECTIONS.items():
        outcome = run_selection(CANARY, selection, timeout)
        clean = run_selection(None, selection, timeout)
        good = outcome.result == "KILLED" and clean.result == "SURVIVED"
        ok = ok and good
        print(f"{'ok  ' if good else 'FAIL'} {where}: canary {outcome.result}, unmutated {clean.result}"
              f" ({outcome.detail})")
    return ok


def per_file(mutants: Sequence[Mutant], timeout: float) -> int:
    """Each mutant against each entry of its selection separately (one at a time)."""
    rows = ["| id | " + "selection entry | result | seconds |", "|---|---|---|---|"]
    for mutant in mutants:
        for entry in mutant.tests:
            outcome = run_selection(mutant, (entry,), timeout)
            print(f"{outcome.result:8} {outcome.seconds:6.0f}s  {mutant.id}  {entry}", flush=True)
            rows.append(f"| {mutant.id} | {entry.replace('tests/', '', 1)} | {outcome.result} | {outcome.seconds:.0f} |")
    print()
    print("\n".join(rows))
    return 0


def table(outcomes: Sequence[Outcome]) -> str:
    rows = ["| id | file | result | seconds | first failing test (or why not) |", "|---|---|---|---|---|"]
    for o in outcomes:
        detail = o.detail.replace("tests/", "", 1).replace("|", "\\|")
        rows.append(f"| {o.mutant.id} | {o.mutant.file} | {o.result} | {o.seconds:.0f} | {detail} |")
    return "\n".join(rows)


def ratio(outcomes: Sequence[Outcome]) -> str:
    killed = sum(o.result == "KILLED" for o in outcomes)
    total = len(outcomes)
    return f"killed {killed} of {total} ({100.0 * killed / total if total else 0.0:.0f}%)"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--list", action="store_true", help="list the mutants and their tests, run nothing")
    parser.add_argument("--only", nargs="+", metavar="ID", help="run only these mutants")
    parser.add_argument("--jobs", type=int, default=1, help="mutants run at once (default 1; mind the CPU)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per mutant (default 600)")
    parser.add_argument("--self-check", action="store_true", help="prove the tests import the mutant")
    parser.add_argument("--baseline", action="store_true", help="run every selection on the unmutated code")
    parser.add_argument("--verbose", action="store_true", help="print each run's deciding line")
    parser.add_argument(
        "--per-file", action="store_true",
        help="run each entry of a mutant's selection on its own: which layers notice it (slower)",
    )
    args = parser.parse_args(argv)

    mutants = list(MUTANTS)
    ids = [m.id for m in mutants]
    if len(set(ids)) != len(ids):
        raise SystemExit("duplicate mutant IDs")
    if args.only:
        unknown = sorted(set(args.only) - set(ids))
        if unknown:
            raise SystemExit(f"unknown mutant(s): {', '.join(unknown)}; see --list")
        mutants = [m for m in mutants if m.id in args.only]
    check_all_plantable(mutants)

    if args.list:
        for m in mutants:
            print(f"{m.id}  ({m.file})\n    {m.original}\n -> {m.replacement}\n    why: {m.why}\n"
                  f"    tests: {' '.join(m.tests)}")
        print(f"{len(mutants)} mutants")
        return 0
    if args.self_check:
        return 0 if self_check(args.timeout) else 1
    if args.baseline:
        selections = list(dict.fromkeys(t for m in mutants for t in m.tests))
        outcome = run_selection(None, selections, args.timeout * 3)
        print(f"baseline: {outcome.result} in {outcome.seconds:.0f}s: {outcome.detail}")
        return 0 if outcome.result == "SURVIVED" else 1

    started = datetime.datetime.now().astimezone()
    if args.per_file:
        return per_file(mutants, args.timeout)

    def one(mutant: Mutant) -> Outcome:
        outcome = run_selection(mutant, mutant.tests, args.timeout)
        line = f"{outcome.result:8} {outcome.seconds:6.0f}s  {mutant.id}"
        print(line + (f"  [{outcome.detail}]" if args.verbose or outcome.result != "KILLED" else ""), flush=True)
        return outcome

    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        outcomes = list(pool.map(one, mutants))
    print()
    print(table(outcomes))
    print()
    print(f"{ratio(outcomes)}; started {started:%Y-%m-%d %H:%M %Z}, "
          f"{sum(o.seconds for o in outcomes) / 60:.0f} min of test runs")
    return 0 if all(o.result == "KILLED" for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
