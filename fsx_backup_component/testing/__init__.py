"""A local Amazon FSx backup API emulator for tests, demos and users' own test suites.

Light on purpose: importing this package never imports pulumi (boto3/botocore only).
See docs/emulator.md.
"""

from .emulator import FsxEmulator, FsxError, ManualClock
from .faults import Faults

__all__ = ["FsxEmulator", "ManualClock", "Faults", "FsxError"]
