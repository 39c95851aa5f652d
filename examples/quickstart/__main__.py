"""Back up an existing FSx file system, given by ID in stack config.

    pulumi config set aws:region us-east-1
    pulumi config set fileSystemId fs-0123456789abcdef0
    pulumi up
"""

import pulumi

from fsx_backup_component import FsxBackup

config = pulumi.Config()

backup = FsxBackup(
    "quickstart",
    file_system_id=config.require("fileSystemId"),
    tags={"purpose": "quickstart", "managed-by": "pulumi"},
    # Change `backupGeneration` (pulumi config set backupGeneration 2) to take a fresh backup.
    triggers={"generation": config.get("backupGeneration") or "1"},
)

pulumi.export("backup_id", backup.backup_id)
pulumi.export("backup_arn", backup.backup_arn)
pulumi.export("lifecycle", backup.lifecycle)
pulumi.export("file_system_type", backup.file_system_type)
