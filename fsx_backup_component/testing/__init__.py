"""A local Amazon FSx backup API emulator for tests, demos and users' own test suites.

Light on purpose: importing this package never imports pulumi (boto3/botocore only).
See docs/emulator.md.
"""

from .emulator import FsxEmulator, FsxError, ManualClock, RequestRecord
from .faults import Faults, ThrottleStorm

__all__ = ["FsxEmulator", "ManualClock", "Faults", "FsxError", "RequestRecord", "ThrottleStorm"]
