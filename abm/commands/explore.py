"""``tfd explore``: the interactive explorer in the browser (needs the ``viz`` extra)."""

from __future__ import annotations



def add(sub) -> None:
    from abm.explore.parameters import EXPLORE

    p = sub.add_parser("explore", help="open the interactive explorer in the browser (pip install -e '.[viz]')",
                       description="Serve Mesa's SolaraViz page for the testbed: pick a prior and a mechanism, "
                                   "watch the welfare ratio and fairness rates settle, see one instance allocated, "
                                   "and audit the settings. Every setting can be changed on the page (then Reset).")
    EXPLORE.add_arguments(p)
    p.set_defaults(run=run_explore)


def run_explore(args) -> int:
    from abm.errors import TfdError

    from abm.explore.session import Explorer, split_mechanism

    name, params = split_mechanism(args.mechanism)
    settings = {"mechanism": name, "params": params, "prior": args.prior, "n_agents": args.n_agents,
                "n_items": args.n_items, "strategies": args.strategies, "instances_per_step": args.instances_per_step,
                "seed": str(args.seed)}
    probe = Explorer(**settings)  # the page would show the same message; say it here, before serving
    if probe.error:
        raise TfdError(probe.error)
    port = _free_port(args.host, args.port)
    try:  # after the cheap checks: these imports take seconds
        import mesa.visualization  # noqa: F401
        import solara  # noqa: F401
    except ImportError as exc:
        raise TfdError(f"tfd explore needs the viz extra ({exc.name} is missing): "
                       "pip install -e '.[viz]' (or .venv/bin/pip install -e '.[viz]')") from None
    print(f"tfd explore: starting the page at http://{args.host}:{port} (Ctrl-C stops)", flush=True)
    from abm.explore.serve import serve

    return serve(args.host, port, not args.no_open, settings)


def _free_port(host: str, port: int) -> int:
    """``port`` if it can be bound on ``host`` (any free one for 0), else a one-line error."""
    import socket

    from abm.errors import TfdError

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
            return s.getsockname()[1]
    except OSError as exc:
        hint = "pass --port 0 for any free port" if exc.errno == 98 else "use --host 127.0.0.1"
        raise TfdError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); {hint}") from None
