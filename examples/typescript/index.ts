import * as pulumi from "@pulumi/pulumi";
import * as fsxBackup from "@fsx-backup/pulumi";

const config = new pulumi.Config();

const backup = new fsxBackup.FsxBackup("quickstart", {
    fileSystemId: config.require("fileSystemId"),
    tags: { purpose: "quickstart", "managed-by": "pulumi" },
    // Change `backupGeneration` (pulumi config set backupGeneration 2) to take a fresh backup.
    triggers: { generation: config.get("backupGeneration") ?? "1" },
    timeoutSeconds: 7200,
});

export const backupId = backup.backupId;
export const backupArn = backup.backupArn;
export const lifecycle = backup.lifecycle;
export const fileSystemType = backup.fileSystemType;
