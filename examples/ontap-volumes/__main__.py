"""Back up several volumes of one FSx for NetApp ONTAP file system.

ONTAP backups are per volume: pass volume IDs (or `pulumi_aws.fsx.OntapVolume` resources), never the
file system. The volumes come from stack config:

    pulumi config set --path 'volumeIds[0]' fsvol-0123456789abcdef0
    pulumi config set --path 'volumeIds[1]' fsvol-0123456789abcdef1
"""

import pulumi

from fsx_backup_component import FsxBackup

config = pulumi.Config()
volume_ids: list[str] = config.require_object("volumeIds")

backups = [
    FsxBackup(f"volume-{index}", volume_id=volume_id, tags={"volume": volume_id})
    for index, volume_id in enumerate(volume_ids)
]

pulumi.export("backup_ids", [b.backup_id for b in backups])
pulumi.export("file_system_ids", [b.file_system_id for b in backups])
