"""The seed file format (docs/emulator.md): settings and resources to start an emulator with.

Seed file (JSON; YAML too when PyYAML happens to be importable)::

    {
      "backup_seconds": 5, "copy_seconds": 5, "backup_quota": 500,
      "page_size": 3, "token_window_seconds": 300, "order_seed": 0,
      "file_systems": [
        {"type": "LUSTRE", "id": "fs-0123456789abcdef0", "deployment_type": "PERSISTENT_2",
         "region": "us-east-1", "tags": {"Name": "scratch"}, "copy_tags_to_backups": true,
         "data_repository_associations": [{"data_repository_path": "s3://b/p", "file_system_path": "/ns1"}]},
        {"type": "ONTAP", "volumes": [{"name": "vol1", "ontap_volume_type": "RW"}]},
        {"type": "OPENZFS", "account_id": "222222222222"}
      ],
      "accounts": {"111111111111": ["AKIAEXAMPLECALLER01"],
                   "222222222222": {"access_keys": ["AKIAEXAMPLETARGET01"], "user_name": "ops"}},
      "roles": [{"arn": "arn:aws:iam::222222222222:role/backup", "trusted_accounts": ["111111111111"],
                 "external_id": "x-123", "max_session_seconds": 7200}]
    }

``accounts`` maps an account ID to its access keys (a list, or {"access_keys", "user_name"});
``roles`` lists ``add_role`` keywords (``arn`` for ``role_arn``); a file system's ``account_id``
names its owner (its volumes and DRAs follow it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

__all__ = ["load_seed", "apply_seed"]

Json = dict[str, Any]


class Seedable(Protocol):
    """What a seed sets and adds to (``FsxEmulator``; no import of it here: it imports this module)."""

    backup_quota: int
    page_size: int | None
    token_window_seconds: float | None
    order_seed: int | None
    account_id: str
    seeded_ids: dict[str, list[str]]

    def add_file_system(self, file_system_type: str, *args: Any, **kwargs: Any) -> str: ...

    def add_volume(self, file_system_id: str, *args: Any, **kwargs: Any) -> str: ...

    def add_data_repository_association(self, file_system_id: str, *args: Any, **kwargs: Any) -> str: ...

    def set_backup_seconds(self, seconds: float, *args: Any, **kwargs: Any) -> None: ...

    def add_account(self, account_id: str, *args: Any, **kwargs: Any) -> None: ...

    def add_role(self, role_arn: str, *args: Any, **kwargs: Any) -> None: ...


def load_seed(source: str | Path | Mapping[str, Any]) -> Json:
    """Read a seed from a mapping, a JSON file or (if PyYAML is importable) a YAML file."""
    if isinstance(source, Mapping):
        return dict(source)
    path = Path(source)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml  # optional: never a dependency of the package
        except ImportError as exc:
            raise RuntimeError("YAML seed files need PyYAML; use JSON instead") from exc
        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a seed must be a mapping at the top level")
    return data


def apply_seed(emulator: Seedable, source: str | Path | Mapping[str, Any]) -> None:
    """Apply settings and create the seeded resources; their IDs go to ``emulator.seeded_ids``."""
    seed = load_seed(source)
    for key in ("backup_seconds", "copy_seconds"):
        if key in seed:
            setattr(emulator, key, float(seed[key]))
    if "backup_quota" in seed:
        emulator.backup_quota = int(seed["backup_quota"])
    if "page_size" in seed:
        emulator.page_size = None if seed["page_size"] is None else int(seed["page_size"])
    if "token_window_seconds" in seed:
        window = seed["token_window_seconds"]
        emulator.token_window_seconds = None if window is None else float(window)
    if "order_seed" in seed:
        emulator.order_seed = None if seed["order_seed"] is None else int(seed["order_seed"])
    if "account_id" in seed:
        emulator.account_id = str(seed["account_id"])
    accounts = seed.get("accounts") or {}
    if not isinstance(accounts, Mapping):
        raise TypeError("seed: accounts maps an account ID to its access keys")
    for account_id, keys in accounts.items():
        if isinstance(keys, Mapping):
            options = dict(keys)
            emulator.add_account(str(account_id), options.pop("access_keys", ()), **options)
        else:
            emulator.add_account(str(account_id), list(keys or ()))
    for role in seed.get("roles") or []:
        options = dict(role)
        arn = options.pop("arn", None) or options.pop("role_arn")
        emulator.add_role(str(arn), **options)
    for entry in seed.get("file_systems") or []:
        _seed_file_system(emulator, dict(entry))


def _seed_file_system(emulator: Seedable, entry: Json) -> None:
    volumes = entry.pop("volumes", None) or []
    associations = entry.pop("data_repository_associations", None) or []
    backup_seconds = entry.pop("backup_seconds", None)
    fs_type = entry.pop("type", None) or entry.pop("file_system_type")
    fs_id = emulator.add_file_system(fs_type, file_system_id=entry.pop("id", None), **entry)
    emulator.seeded_ids["file_systems"].append(fs_id)
    if backup_seconds is not None:
        emulator.set_backup_seconds(float(backup_seconds), file_system_id=fs_id)
    for volume in volumes:
        volume = dict(volume)
        vol_id = emulator.add_volume(fs_id, volume_id=volume.pop("id", None), **volume)
        emulator.seeded_ids["volumes"].append(vol_id)
    for dra in associations:
        dra = dict(dra)
        dra_id = emulator.add_data_repository_association(
            fs_id, association_id=dra.pop("id", None), **dra
        )
        emulator.seeded_ids["associations"].append(dra_id)
