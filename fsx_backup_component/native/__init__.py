"""The native Pulumi provider plugin of package ``fsx-backup``: ``FsxBackup`` for programs in every
language (TypeScript, Go, C#, YAML, Python with ``remote=True``), served from the same core as the
dynamic provider. Started by the plugin directory's ``__main__.py`` (provider/); see docs/native.md."""

from __future__ import annotations


def main() -> None:
    from .server import main as serve

    serve()


__all__ = ["main"]
