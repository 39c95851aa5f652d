"""Back up file systems that live in two accounts and two regions, each read through its own AWS
provider, as in a landing zone: a tools file system in this (the deploying) account, and a data
file system in a workload account reached by assuming a role there. The stack's `aws:region` is
neither of their regions: each backup follows its file system's provider.

    pulumi config set aws:region us-east-1
    pulumi config set toolsRegion us-west-2
    pulumi config set toolsFileSystemId fs-0123456789abcdef0
    pulumi config set dataRegion eu-west-1
    pulumi config set dataFileSystemId fs-0123456789abcdef1
    pulumi config set dataRoleArn arn:aws:iam::222222222222:role/fsx-backup
    pulumi config set dataExternalId <the role's external ID>
    pulumi up
"""

import pulumi
import pulumi_aws as aws

from fsx_backup_component import FsxBackup

config = pulumi.Config()

# This account, another region. Credentials: the environment (AWS_PROFILE, SSO, ...).
tools_provider = aws.Provider("tools", region=config.require("toolsRegion"))

# The workload account: a role assumed there. pulumi-aws does not expose a provider's
# assume_roles to the program, so the same roles are handed to the backup below.
data_roles = [
    aws.ProviderAssumeRoleArgs(
        role_arn=config.require("dataRoleArn"),
        external_id=config.get("dataExternalId"),
        session_name="fsx-backup",
    )
]
data_provider = aws.Provider("data", region=config.require("dataRegion"), assume_roles=data_roles)

tools = aws.fsx.LustreFileSystem.get(
    "tools", config.require("toolsFileSystemId"), opts=pulumi.ResourceOptions(provider=tools_provider)
)
data = aws.fsx.OpenZfsFileSystem.get(
    "data", config.require("dataFileSystemId"), opts=pulumi.ResourceOptions(provider=data_provider)
)

generation = {"generation": config.get("backupGeneration") or "1"}
tools_backup = FsxBackup("tools", file_system=tools, tags={"purpose": "nightly"}, triggers=generation)
data_backup = FsxBackup(
    "data",
    file_system=data,
    assume_roles=data_roles,
    tags={"purpose": "nightly"},
    triggers=generation,
    # A disaster-recovery copy in a second region, made with the same role.
    copy_to_regions=[config.get("dataCopyRegion") or "eu-central-1"],
)

pulumi.export("tools_backup_arn", tools_backup.backup_arn)
pulumi.export("data_backup_arn", data_backup.backup_arn)
pulumi.export("data_copies", data_backup.copies)
