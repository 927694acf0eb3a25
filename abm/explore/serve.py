"""Start the explorer's server: ``tfd explore`` calls :func:`serve`."""

from __future__ import annotations

import json
import os
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

    args = ["run", "abm.explore.app", "--host", host, "--port", str(port), "--production",
            "--open" if open_browser else "--no-open", "--log-level", "warning"]
    try:
        cli.main(args=args, prog_name="solara", standalone_mode=False)
    except KeyboardInterrupt:
        return 130
    return 0
