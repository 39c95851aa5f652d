"""docs/guarantees.md states what the campaign tries and how often. Those figures are rendered here
from the tests' own constants, and the document must carry them verbatim, so the published table
cannot claim more (or less) than the tests do. Regenerate after changing a constant:

    .venv/bin/python tests/reliability/test_guarantees_doc.py
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if __name__ == "__main__":  # rendering from the command line
    sys.path[:0] = [str(HERE), str(HERE.parents[1])]

import test_bad_input as bad_input  # noqa: E402
import test_kill_points as kills  # noqa: E402
import test_service_answers as answers  # noqa: E402
import test_throttle_storm as storm  # noqa: E402
import test_transient_faults as faults  # noqa: E402
from reliability_helpers import BACKUP_SECONDS, TARGET_KINDS  # noqa: E402

DOC = HERE.parents[1] / "docs" / "guarantees.md"


def _pct(rate: float) -> str:
    return f"{round(rate * 100)}%"


def guarantees_table() -> str:
    f, k, a = faults, kills, answers
    seeds = ", ".join(str(s) for s in f.FAULT_SEEDS)
    kinds = ", ".join(TARGET_KINDS)
    rows = [
        ("guarantee", "what was tried", "how often (seeds, kill points, backups)", "result"),
        ("---", "---", "---", "---"),
        (
            "Throttling and server errors never lose nor duplicate a backup",
            f"{_pct(f.THROTTLE_RATE)} of all FSx requests answered ThrottlingException and "
            f"{_pct(f.INTERNAL_ERROR_RATE)} InternalServerError (emulator faults, fixed seeds) during `up` of "
            f"a {f.STACK_SIZE}-backup stack ({f.PER_KIND} each of {kinds}; distinct targets); then destroy",
            f"{len(f.FAULT_SEEDS)} seeds ({seeds}) × {f.STACK_SIZE} backups = "
            f"{len(f.FAULT_SEEDS) * f.STACK_SIZE} backups",
            "every backup AVAILABLE; exactly 1 user-initiated backup per target (DELETED included); "
            "no orphan; destroy leaves none",
        ),
        (
            "A write FSx served but whose answer was lost is not repeated",
            "the first answer of every " + "/".join(f.LOST_ANSWER_OPERATIONS) + " (per backup / target) "
            f"replaced by a 500 after FSx acted on it, later ones at {_pct(f.LOST_ANSWER_RATE)}; "
            "create, tag change, destroy",
            f"{len(f.LOST_ANSWER_SEEDS)} seeds × {f.LOST_ANSWER_STACK_SIZE} backups "
            f"(one per target kind) = {len(f.LOST_ANSWER_SEEDS) * f.LOST_ANSWER_STACK_SIZE} backups",
            "exactly 1 backup per target; tags as asked; destroy leaves none",
        ),
        (
            "Killing the provider mid-operation, then re-running, never duplicates nor orphans",
            "SIGKILL of the provider host at a point drawn from a seeded RNG (k-th CreateBackup / "
            "DescribeBackups / DescribeFileSystems / TagResource / UntagResource / DeleteBackup request, "
            "or a Create RPC in flight for 0.05–0.8 s), "
            f"{k.KILLS_PER_PHASE} kills in each of create, update (tags) and delete, each phase then re-run",
            f"{len(k.KILL_SEEDS)} seeds × {k.KILLS_PER_SEED} = {k.TOTAL_KILL_POINTS} kill points; "
            f"{len(k.STACK_KINDS)} backups per seed",
            "0 duplicate backups, 0 orphans after each phase; a further `up` makes no "
            "create/update/delete; tags updated in place (same backup IDs)",
        ),
        (
            "BackupInProgress (an automatic backup running) is waited out",
            f"an AUTOMATIC backup ({a.AUTOMATIC_BACKUP_SECONDS:g} s) started as the provider sends CreateBackup",
            "1 backup",
            "`up` succeeds after the provider's busy pause (5 s): exactly one refused CreateBackup, "
            "then one accepted; the automatic backup untouched",
        ),
        (
            "A FAILED backup reports AWS's reason and leaves nothing",
            "emulator `fail_next_backup` with a FailureDetails message (Lustre)",
            "1 backup",
            "the error contains the backup ID and AWS's message; nothing in state; the failed backup "
            "deleted; the next `up` takes a new one",
        ),
        (
            "ServiceLimitExceeded is clear and leaves no partial state",
            f"backup quota {a.QUOTA}, a {a.QUOTA_STACK}-backup stack",
            f"{a.QUOTA_STACK} backups",
            "the refused resource fails naming TOTAL_USER_INITIATED_BACKUPS with the AWS request ID; "
            "it has nothing in state nor in FSx; the others are complete; quota raised, `up` completes",
        ),
        (
            "A passed deadline is clear and the next `up` resumes the same backup",
            f"`timeout_seconds={a.SHORT_TIMEOUT_SECONDS}` on a {a.LONG_BACKUP_SECONDS:g} s backup, then "
            "`timeout_seconds=60`",
            "1 backup",
            "the error names the backup ID and its lifecycle; the next `up` returns that same backup "
            "ID; 1 backup in FSx",
        ),
        (
            "Changes outside Pulumi behave as expected",
            "backup deleted by hand → refresh → up; file system deleted by hand → refresh → up → destroy; "
            "preview of a new backup of a deleted file system",
            "3 scenarios",
            "refresh drops the deleted backup and `up` takes a new one; refresh keeps a backup whose "
            "file system is gone, a later `up` of the unchanged program leaves it alone, and destroy "
            "deletes it; preview fails \"not found\"",
        ),
        (
            "Bad input is refused at preview, with no write call",
            "the table below, all in one program: preview, then `up`",
            f"{len(bad_input.CASES)} cases",
            "each refused on its own resource, naming the property and the valid form; 0 write calls "
            "(CreateBackup, DeleteBackup, TagResource, UntagResource, CopyBackup); nothing in state",
        ),
        (
            "No credential value reaches state, outputs or logs",
            "distinctive AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN in the provider's "
            "environment; preview, up (with a cross-region copy), tag update, refresh, a FAILED "
            "replacement, a quota refusal, destroy. Then the paths that follow an AWS provider: a "
            "profile's keys from a credentials file (with a copy), a role assumed in another account "
            "(STS's temporary keys), a provider with static keys (refused at preview)",
            "7 runs, then 2 stacks (preview, up, tag update, refresh, destroy; a refused preview and "
            "up); every gRPC response and error, every request, outputs, state, `__provider` "
            "(base64-decoded), engine log messages, provider stdout/stderr",
            "none of the values anywhere (pulumi-aws's own provider state aside, where the engine "
            "keeps static keys as secrets); no secret in plain text in state; no `Signature=` / "
            "`Credential=` / `AWS4-HMAC-SHA256` in anything shown to the user",
        ),
        (
            "AWS errors carry the request ID",
            "a non-retryable BadRequest from CreateBackup (file system turned MISCONFIGURED after "
            "preview); ServiceLimitExceeded",
            "2 cases",
            "`(AWS request ID: <uuid>)` in the error, with the code and AWS's message",
        ),
        (
            "A throttling storm costs time, not a failed `up` nor a duplicate",
            f"{_pct(f.STORM_RATE)} of ALL FSx calls answered ThrottlingException for the next {f.STORM_CALLS} calls "
            f"(emulator throttle_storm) from the first CreateBackup of the `up` of a {f.STORM_STACK_SIZE}-backup stack; and "
            f"{storm.CALLS} concurrent CreateBackup calls through one client in the same storm, with and "
            "without the package's own retries",
            f"1 stack of {f.STORM_STACK_SIZE} backups; {storm.CALLS} calls twice",
            "every backup AVAILABLE, exactly 1 per target, no orphan; botocore alone (its retry quota "
            "drained) fails calls, the package's retries carry every one",
        ),
        (
            "The emulator listens on loopback only by default",
            "bound address; a connection to the port through a non-loopback address of the machine",
            "1 case",
            "bound to 127.0.0.1; the non-loopback connection is refused (skipped, with the reason, on "
            "a machine without such an address)",
        ),
    ]
    lines = ["| " + " | ".join(cells) + " |" for cells in rows]
    lines.append("")
    lines.append(f"Emulated backups last {BACKUP_SECONDS:g} s unless stated otherwise.")
    return "\n".join(lines)


def test_docs_carry_the_guarantees_table() -> None:
    text = DOC.read_text() if DOC.exists() else ""
    assert guarantees_table() in text, (
        f"{DOC} must contain the guarantees table as rendered from the tests' constants; "
        "regenerate it: .venv/bin/python tests/reliability/test_guarantees_doc.py"
    )


def test_docs_carry_the_bad_input_table() -> None:
    text = DOC.read_text() if DOC.exists() else ""
    assert bad_input.markdown_table() in text, (
        f"{DOC} must contain the bad-input table exactly as the tests define it; "
        "regenerate it: .venv/bin/python tests/reliability/test_guarantees_doc.py"
    )


if __name__ == "__main__":
    print("<!-- guarantees table -->")
    print(guarantees_table())
    print()
    print("<!-- bad-input table -->")
    print(bad_input.markdown_table())
