"""Entry point the Pulumi CLI runs for this plugin: `<dir>/venv/bin/python <dir> <engine address>`.

Nothing but the port line may reach stdout. The repository's own package (one directory up) comes
before the venv's site-packages, so the plugin serves the code of the checkout it was added from;
a PYTHONPATH set by whoever starts the plugin still comes first, as for any Python program (the
mutation check, tools/mutate.py, plants its bugs that way).
"""

import os
import sys
from pathlib import Path

_given = {p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p}
_after_given = max((i + 1 for i, p in enumerate(sys.path) if p in _given), default=0)
sys.path.insert(_after_given, str(Path(__file__).resolve().parent.parent))

from fsx_backup_component.native import main  # noqa: E402

main()
