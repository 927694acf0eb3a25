"""``tfd audit dsic|bic|replay``."""

from __future__ import annotations

import sys

from abm import files
from abm.errors import TfdError

from abm.commands.common import emit, progress, split_top_level


def add(sub) -> None:
    audit = sub.add_parser("audit", help="measure the gain from deviating (DSIC: ex post; BIC: interim)")
    asub = audit.add_subparsers(dest="audit_command", required=True, parser_class=type(audit))

    from abm import options as o
    from abm.audit.parameters import BIC, DSIC
    from abm.declare import Entry, Option, switch, whole

    cli = (o.JSON, o.OUT.with_(help="folder for the tidy frame, summary.json, witnesses and plots"), o.NO_PROGRESS)
    d = asub.add_parser("dsic", help=DSIC.summary)
    learn = (Option("learn", switch(), "also train the general learner (item-policy) per agent and report the best "
                                       "lie it finds, replayed and shrunk: evidence, never proof", default=False),
             Option("learn_rounds", whole(1), "training rounds per agent for --learn (64 instances each; default 200)"))
    Entry("tfd audit dsic", tuple(x for x in DSIC.options if x.name not in ("exhaustive_max_items", "tol", "shrink"))
          + learn + cli).add_arguments(d)
    d.set_defaults(run=run_dsic)

    b = asub.add_parser("bic", help=BIC.summary)
    Entry("tfd audit bic", tuple(x for x in BIC.options if x.name != "p_t_draws") + cli).add_arguments(b)
    b.set_defaults(run=run_bic)

    from abm.mutants.parameters import ZOO

    z = asub.add_parser("mutants", help="the mutant zoo: " + ZOO.summary)
    Entry("tfd audit mutants", ZOO.options + (
        Option("list", switch(), "list the entries and exit", default=False),
        Option("generated", switch(), "mutants nobody chose: every Cosmic Ray mutation of the lines the catalogue's "
               "DSIC rules run, each judged by enumeration at m = 4, 5 and, if manipulable, audited at the zoo's "
               "budget", default=False),
        o.JSON, o.OUT.with_(help="folder for mutants.csv, mutants.parquet and summary.json"))).add_arguments(z)
    z.set_defaults(run=run_mutants)

    r = asub.add_parser("replay", help="re-check a saved witness")
    Entry("tfd audit replay", (o.WITNESS, o.JSON)).add_arguments(r)
    r.set_defaults(run=run_replay)


def _mechanism(args):
    from abm import mechanisms
    from abm.priors import parse_prior

    prior = parse_prior(args.prior)
    return mechanisms.parse(args.mechanism, prior=prior), prior


def _strategies(args):
    if args.strategies.strip().lower() == "default":
        return "default"
    if args.strategies.strip().lower() == "none":
        return []
    import strategies

    return [strategies.parse(s) for s in split_top_level(args.strategies)]


def _run(args, kind, audit, **sizes):
    """Build the mechanism, run the audit with a progress bar, write --out; returns (result, summary)."""
    from abm.audit.report import write_audit
    from abm.audit.work import check_audit_work

    mech, prior = _mechanism(args)
    chosen = _strategies(args)
    check_audit_work(kind, mech, args.n_agents, args.n_items, sizes.get("profiles", sizes.get("types", 1)),
                     sizes.get("budget", 0), 17 if chosen == "default" else len(chosen), sizes.get("cross_check", 0),
                     hint="use fewer --profiles or --items, a smaller --budget, or --strategies none")
    with progress(args, args.n_agents, f"{kind} audit", "agent") as bar:
        result = audit(mech, prior, args.n_agents, args.n_items, strategies=chosen, seed=args.seed,
                       confidence=args.confidence, progress=bar.update, **sizes)
    s = result.to_dict()
    if args.out:
        s["written"] = write_audit(result, args.out, kind)
    return result, s


def run_dsic(args) -> int:
    from abm.audit import dsic_audit

    result, s = _run(args, "dsic", dsic_audit, profiles=args.profiles, budget=args.budget,
                     cross_check=args.cross_check)
    lines = [f"DSIC audit of {s['mechanism']} (claim: {s['claim']}), prior {s['prior']}, "
             f"{s['n_agents']} agents x {s['n_items']} items, {s['profiles']} profiles, seed {s['seed']}",
             f"  max gain {s['max_gain']:.6g}, mean gain {s['mean_gain']:.6g}, "
             f"mean relative gain {s['mean_relative_gain']:.3%}",
             f"  violations {s['violations']} of {s['pairs']} (profile, agent) pairs: rate {s['violation_rate']:.4f}, "
             f"{100 * s['confidence']:g}% upper bound {s['violation_rate_upper']:.4f}",
             f"  proven pairs {s['proven_pairs']} of {s['pairs']} ({s['proven_fraction']:.1%}): "
             + (", ".join(f"{k} {v}" for k, v in s["proof"].items() if v and k not in ("claimed", "none")) or "none")
             + (f"; claimed by the rule's own oracle, not proven: {s['proof']['claimed']}" if s["proof"]["claimed"]
                else "") + f"; exact: {s['exact']}",
             f"  proof sources: {s['proof_note']}",
             f"  oracle: {s['oracle']}; ordinal: {s['properties']['ordinal']}",
             f"  search: {s['search']} on {s['searched_pairs']} of {s['pairs']} pairs (every unproven pair, and "
             f"{s['cross_checked']} proven pairs as a cross-check of the proof); evaluations {s['evaluations']:,}"]
    lines += [f"  {d}" for d in s["defects"]]
    if "trades" in s:
        t = s["trades"]
        lines.append(f"  trades: rate {t['trade_rate']:.3f}, mean welfare added {t['mean_welfare_added_by_trades']:.4g}")
    if result.witness is not None:
        w = result.witness
        lines.append(f"  witness: agent {w.agent} gains {w.gain:.6g} ({w.n_agents} agents x {w.n_items} items)")
    if result.shrunk is not None:
        lines.append(f"  shrunk witness: {result.shrunk.n_agents} agents x {result.shrunk.n_items} items, "
                     f"gain {result.shrunk.gain:.6g}")
    if args.learn:
        lines += _learned(args, s)
    if "written" in s:
        lines.append(f"  written to {args.out}")
    emit(s, args.json, lines)
    return 0


def _learned(args, s) -> list[str]:
    """Run the general learner beside the audit; its summary goes into ``s["learner"]``."""
    from abm.audit import learned
    from abm.audit.witness import save

    mech, prior = _mechanism(args)
    rounds = args.learn_rounds or learned.ROUNDS
    with progress(args, args.n_agents, "learner", "agent") as bar:
        L = learned.learned_lies(mech, prior, args.n_agents, args.n_items, profiles=args.profiles, seed=args.seed,
                                 rounds=rounds, progress=bar.update)
    w, shrunk = L.pop("witness"), L.pop("shrunk")
    L["witness_gain"] = None if w is None else w.gain
    L["shrunk_size"] = None if shrunk is None else [shrunk.n_agents, shrunk.n_items]
    if args.out:
        from pathlib import Path

        from abm.jsonable import to_jsonable

        folder = Path(args.out)
        folder.mkdir(parents=True, exist_ok=True)
        files.write_json(folder / "learner.json", to_jsonable(L))
        if w is not None:
            save(w, folder / "learned_witness.json")
        if shrunk is not None:
            save(shrunk, folder / "learned_witness_shrunk.json")
    s["learner"] = L
    out = [f"  general learner ({L['learner']}, {rounds} rounds x {L['instances_per_round']} instances per agent; "
           f"{L['evidence'].split(':')[0]}): lies on {L['violations']} of {L['pairs']} fresh pairs, "
           f"max gain {L['max_gain']:.6g}"]
    if w is not None:
        out.append(f"    learned witness: agent {w.agent} gains {w.gain:.6g}, replayed"
                   + (f"; shrunk to {shrunk.n_agents} agents x {shrunk.n_items} items, gain {shrunk.gain:.6g}"
                      if shrunk is not None else ""))
    else:
        out.append("    no lie found by the learner (this proves nothing)")
    return out


def run_bic(args) -> int:
    from abm.audit import bic_audit

    _, s = _run(args, "bic", bic_audit, types=args.types, samples=args.samples)
    lines = [f"BIC audit of {s['mechanism']} (claim: {s['claim']}), prior {s['prior']}, "
             f"{s['n_agents']} agents x {s['n_items']} items; {s['types']} types x {s['samples']} draws each",
             f"  largest expected gain {s['max_expected_gain']:.6g} [{s['ci_low']:.6g}, {s['ci_high']:.6g}] "
             f"({s['max_deviation']})",
             f"  Bonferroni-corrected p-value {s['p_value']:.4g} over {s['deviations_tested']} tests: "
             f"{'significant' if s['significant'] else 'no significant'} interim gain",
             f"  p_t non-increasing: {s['p_t_non_increasing']}"]
    if "written" in s:
        lines.append(f"  written to {args.out}")
    emit(s, args.json, lines)
    return 0


def run_replay(args) -> int:
    from abm.audit import load, replay

    w = load(args.witness)
    r = replay(w)
    emit(r, args.json, [f"{'confirmed' if r['confirmed'] else 'NOT confirmed'}: agent {w.agent} gains "
                        f"{r['gain']:.6g} (saved {r['saved_gain']:.6g}); allocations match: {r['allocations_match']}"])
    return 0 if r["confirmed"] else 1


def run_mutants(args) -> int:
    from pathlib import Path

    from abm import mutants

    if args.generated:
        return _run_generated(args)
    if args.list:
        for name in mutants.names():
            print(name)
        return 0
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)

    def progress(row):
        print(f"  {row['outcome']:<11} {row['entry']:<45} {row['seconds']:6.2f} s  {row['by']}", file=sys.stderr,
              flush=True)

    frame, s = mutants.run_zoo(args.n_items, args.profiles, args.seed, args.workers, args.only, progress)
    if args.out:
        files.write_frame(frame, out / "mutants.csv")
        files.write_frame(frame, out / "mutants.parquet")
        files.write_json(out / "summary.json", s)
        s = {**s, "written": str(out)}
    pct = lambda x: "n/a" if x is None else f"{x:.0%}"  # noqa: E731
    lines = [f"mutant zoo: {len(frame)} entries, m = {args.n_items}, {args.profiles} profiles, seed {args.seed}",
             f"  DSIC mutants caught: {pct(s['dsic_kill_rate'])}; BIC mutants caught: {pct(s['bic_kill_rate'])}",
             f"  missed: {', '.join(s['missed']) or 'none'}; false alarms on originals: "
             f"{', '.join(s['false_alarms']) or 'none'}",
             f"  audit time {s['seconds_total']:.1f} s in all"]
    emit({**s, "rows": frame.to_dict(orient="records")}, args.json, lines)
    return 0 if not s["false_alarms"] else 1


def _run_generated(args) -> int:
    from pathlib import Path

    from abm.mutants.generated import run_generated

    if args.only or args.list:
        raise TfdError("--only and --list name zoo entries; with --generated use --sample N")
    shown = {"caught", "missed", "no lie at the audited size"}

    def progress(rows):
        for r in rows:
            if r["outcome"] in shown or r["truth"] == "manipulable":
                print(f"  {r['outcome']:<8} {r['mutant']:<48} {r['rule']:<20} {r['changed'][:60]}", file=sys.stderr,
                      flush=True)

    frame, s = run_generated(args.n_items, args.profiles, args.seed, args.workers, args.sample, progress=progress)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        files.write_frame(frame, out / "generated.csv")
        files.write_frame(frame, out / "generated.parquet")
        files.write_json(out / "generated-summary.json", s)
        s = {**s, "written": str(out)}
    pct = "n/a" if s["kill_rate"] is None else f"{s['kill_rate']:.1%}"
    pct2 = "n/a" if s["kill_rate_where_a_lie_exists"] is None else f"{s['kill_rate_where_a_lie_exists']:.1%}"
    lines = [f"generated mutants: {s['generated']} generated, {s['mutants_run']} run, {s['mutant_rule_pairs']} (mutant, rule) "
             f"pairs; m = {args.n_items}, {args.profiles} profiles, seed {args.seed}",
             f"  {'discarded (broken or crashing)':<34} {s['discarded']:>6}",
             f"  {'still truthful at m = 4, 5':<34} {s['still_truthful']:>6}  ({s['equivalent']} of them equivalent)",
             f"  {'manipulable only with tied values':<34} {s['manipulable_only_with_ties']:>6}  (not counted: the "
             "audit's continuous priors draw no ties)",
             f"  {'manipulable (by enumeration)':<34} {s['manipulable']:>6}",
             f"  {'caught by the audit':<34} {s['caught']:>6}  kill rate {pct}",
             f"  {'missed (a referee finds a lie)':<34} {s['missed']:>6}  kill rate where a lie exists {pct2}",
             f"  {'no lie at m = ' + str(args.n_items) + ' (referee)':<34} {s['no_lie_at_audited_size']:>6}  (a flaw of "
             "small m only, by a search with 10x the budget on every pair)",
             f"  {'false proofs':<34} {s['false_proofs']:>6}",
             f"  {s['seconds']:.0f} s in all"]
    lines += [f"  missed: {m}" for m in s["missed_mutants"]]
    lines += [f"  no lie at m = {args.n_items}: {m}" for m in s["no_lie_at_audited_size_mutants"]]
    emit({**s, "rows": frame.to_dict(orient="records")}, args.json, lines)
    return 0 if not s["false_proofs"] else 1
