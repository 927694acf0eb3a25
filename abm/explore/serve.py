"""Start the explorer's server: ``tfd explore`` calls :func:`serve`."""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

#: a closed tab's session (and any run it was playing) ends after this long without a page
CULL_TIMEOUT = "2m"


def serve(host: str, port: int, open_browser: bool, settings: dict) -> int:
    """Run Solara's server on ``host:port`` with the page's starting ``settings``; blocks."""
    from abm.explore.app import DEFAULTS_VARIABLE

    os.environ[DEFAULTS_VARIABLE] = json.dumps(settings)
    # Solara keeps a disconnected session for a day by default, so a closed tab would go on stepping
    os.environ.setdefault("SOLARA_KERNEL_CULL_TIMEOUT", CULL_TIMEOUT)
    # imported before the server listens, so the first visitor does not wait for it (about 5 s here)
    import abm.explore.app  # noqa: F401
    import solara.server.settings
    from solara.__main__ import cli

    # assets/custom.js goes into every page's head (it preloads ECharts)
    solara.server.settings.assets.extra_locations.append(str(Path(__file__).parent / "assets"))

    # solara warns about cookies for https sites embedding the page in an iframe: not our case
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    # --no-check-version: solara's advice to upgrade would break the pinned, CDN-free assets
    args = ["run", "abm.explore.app", "--host", host, "--port", str(port), "--production", "--no-check-version",
            "--open" if open_browser else "--no-open", "--log-level", "warning"]
    from click.exceptions import Abort

    try:
        cli.main(args=args, prog_name="solara", standalone_mode=False)
    except (KeyboardInterrupt, Abort):  # Ctrl-C is how a server is stopped: no traceback
        pass
    print("tfd explore: stopped", file=sys.stderr)
    return 0
