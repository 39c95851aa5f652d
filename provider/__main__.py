"""Entry point the Pulumi CLI runs for this plugin: `<dir>/venv/bin/python <dir> <engine address>`.

Nothing but the port line may reach stdout. The repository's own package (one directory up) comes
first on the path, so the plugin always serves the code of the checkout it was added from.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fsx_backup_component.native import main  # noqa: E402

main()
