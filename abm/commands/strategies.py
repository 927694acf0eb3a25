"""``tfd strategies``: the registered strategies with their classifiers and parameters."""

from __future__ import annotations

import inspect

from abm.commands.common import emit


def add(sub) -> None:
    p = sub.add_parser("strategies", help="list strategies and learners: classifier and parameters")
    from abm import options as o
    from abm.declare import Entry

    Entry("tfd strategies", (o.JSON,)).add_arguments(p)
    p.set_defaults(run=run)


def run(args) -> int:
    import strategies

    rows = []
    for cls in strategies.available():
        sig = inspect.signature(cls.__init__)
        params = {k: (None if v.default is inspect.Parameter.empty else repr(v.default))
                  for k, v in sig.parameters.items() if k not in ("self", "args", "kwargs")}
        instance = strategies.get(cls.name)
        rows.append({"name": cls.name, "learner": isinstance(instance, strategies.Learner),
                     "classifier": dict(instance.classifier), "parameters": params,
                     "summary": " ".join((cls.__doc__ or "").split()).split(". ")[0]})
    lines = []
    for r in rows:
        flags = ", ".join(k for k, v in r["classifier"].items() if v is True)
        params = ", ".join(f"{k}={v}" for k, v in r["parameters"].items()) or "no parameters"
        lines += [f"{r['name']}{' (learner)' if r['learner'] else ''}: {r['summary']}",
                  f"  parameters: {params}", f"  classifier: {flags}"]
    emit({"strategies": rows}, args.json, lines)
    return 0
