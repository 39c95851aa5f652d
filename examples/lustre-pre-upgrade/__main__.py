"""A persistent Lustre file system whose upgrades are preceded by a backup.

The guard's hooks run before Pulumi updates (or deletes) the file system: the backup of the current
file system is AVAILABLE before the engine asks AWS for the change. The first `pulumi up` creates the
file system without a backup; `pulumi config set lustreVersion 2.15` then `pulumi up` backs it up
first, then upgrades it. Tear down with `pulumi destroy --run-program` (the guard's delete hook takes a
last backup; Pulumi refuses a plain `pulumi destroy` of a stack with delete hooks).
"""

import pulumi
import pulumi_aws as aws

from fsx_backup_component import PreChangeBackup

config = pulumi.Config()

guard = PreChangeBackup(
    "data-pre-change",
    keep_last=int(config.get("keepLast") or 3),
    tags={"purpose": "pre-change"},
)

data = aws.fsx.LustreFileSystem(
    "data",
    storage_capacity=1200,
    subnet_ids=config.require("subnetId"),  # pulumi_aws 7: one subnet, as a string
    deployment_type="PERSISTENT_2",
    per_unit_storage_throughput=125,
    file_system_type_version=config.get("lustreVersion") or "2.12",
    opts=pulumi.ResourceOptions(hooks=guard.hooks),
)

pulumi.export("file_system_id", data.id)
pulumi.export("lustre_version", data.file_system_type_version)
