#!/usr/bin/env python3
"""Compares `ruleconv convert --to kql` with pySigma's kusto backend (microsoft_xdr pipeline)
rule by rule over a Sigma corpus, and prints the comparison as markdown.

    scripts/compare_pysigma.py [--rules ../shared/corpus/sigma/rules]
                               [--ruleconv $CARGO_TARGET_DIR/release/ruleconv]
                               [--profile sentinel] [--json out.json]
    scripts/compare_pysigma.py --pysigma-only DIR   # time pySigma alone (used by the bench)

Runs itself a second time under the sigma-check venv's Python (pySigma 1.5.1 with
pySigma-backend-kusto 1.0.1; `../shared/tools/sigma-check/sigma` installs it) to convert with
pySigma: the whole folder is loaded as one collection (so correlations resolve the rules they
name, as `sigma convert DIR` does), and every rule is converted on its own with errors
collected, as `sigma convert -t kusto -p microsoft_xdr -s DIR` does, so one rule pySigma
cannot handle does not abort the others. A rule counts as converted by pySigma when it gives
at least one query without error. ruleconv runs once over the folder with `--report`, and a
rule counts as converted when its record's status is `converted`.

The logsource key is `product/category/service` with the absent parts left out.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared"
DEFAULT_RULES = SHARED / "corpus" / "sigma" / "rules"
SIGMA_CHECK = SHARED / "tools" / "sigma-check" / "sigma"


def venv_python():
    cache = os.environ.get("RULECONV_TOOLS_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "ruleconv-tools"
    )
    venv = Path(cache) / "sigma-venv"
    if not (venv / ".ready").exists() and SIGMA_CHECK.exists():
        # the sigma-check wrapper installs the pinned venv on first use
        subprocess.run([str(SIGMA_CHECK), "version"], stdout=subprocess.DEVNULL, check=False)
    return venv / "bin" / "python"


# ---------------------------------------------------------------- pySigma side (in the venv)

def pysigma_convert(rules_dir):
    """{path: {"converted": bool, "error": str|None, "logsource": key}} from pySigma."""
    from sigma.collection import SigmaCollection
    from sigma.rule import SigmaRule
    from sigma.backends.kusto import KustoBackend
    from sigma.pipelines.microsoftxdr import microsoft_xdr_pipeline

    started = time.perf_counter()
    paths = sorted(Path(rules_dir).rglob("*.yml"))
    collection = SigmaCollection.load_ruleset(paths, collect_errors=True)
    collection.resolve_rule_references()
    loaded = time.perf_counter()
    backend = KustoBackend(processing_pipeline=microsoft_xdr_pipeline(), collect_errors=True)
    backend.init_processing_pipeline(None)
    results = {}
    for rule in collection.rules:
        path = str(rule.source.path) if rule.source is not None else "?"
        entry = {"converted": False, "error": None, "queries": 0}
        if isinstance(rule, SigmaRule):
            ls = rule.logsource
            entry["logsource"] = "/".join(p for p in (ls.product, ls.category, ls.service) if p)
        else:
            entry["logsource"] = "correlation"
        if rule.errors:
            entry["error"] = str(rule.errors[0])
        else:
            before = len(backend.errors)
            try:
                if isinstance(rule, SigmaRule):
                    queries = backend.convert_rule(rule, "default")
                    # a rule a correlation uses without output gives no query of its own
                    if not queries and rule.get_conversion_result():
                        queries = rule.get_conversion_result()
                else:
                    queries = backend.convert_correlation_rule(rule, "default")
            except Exception as e:  # pySigma raises what it does not collect
                queries, entry["error"] = [], f"{type(e).__name__}: {e}"
            if len(backend.errors) > before:
                entry["error"] = str(backend.errors[-1][1])
            entry["queries"] = len(queries)
            entry["converted"] = entry["error"] is None and len(queries) > 0
            if entry["error"] is None and not queries:
                entry["error"] = "no query and no error (sigma convert prints nothing)"
        results[path] = entry
    done = time.perf_counter()
    return results, {"files": len(paths), "load_s": loaded - started, "convert_s": done - loaded}


# ---------------------------------------------------------------- ruleconv side

def ruleconv_convert(ruleconv, rules_dir, profile):
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "r.json"
        cmd = [str(ruleconv), "convert", str(rules_dir), "--to", "kql", "--report", str(report),
               "-o", str(Path(tmp) / "out")]
        if profile:
            cmd += ["--profile", profile]
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        data = json.loads(report.read_text())
    results = {}
    for rec in data["records"]:
        errors = [p["message"] for p in rec.get("problems", []) if p.get("kind") == "error"]
        results.setdefault(rec["source"], []).append(
            {"converted": rec["status"] == "converted", "error": errors[0] if errors else None})
    return results


def reason_key(message):
    """Groups messages: the part before the first backquoted detail, plus the logsource."""
    if message is None:
        return "?"
    if message.startswith("no table for logsource"):
        return message.split(" in the ")[0]
    head = message.split("`")[0].strip().rstrip(":")
    return head or message


def logsource_table(title, rows, columns):
    """A markdown table of `rows` (logsource -> counts, first `len(columns)` shown), largest
    first, with a total row."""
    width = len(columns)
    print(f"### {title}\n")
    print("| logsource | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * width)
    for k, r in sorted(rows.items(), key=lambda kv: (-kv[1][0], kv[0])):
        print(f"| `{k}` | " + " | ".join(str(n) for n in r[:width]) + " |")
    totals = [sum(r[i] for r in rows.values()) for i in range(width)]
    print(f"| **{len(rows)} logsources** | " + " | ".join(f"**{n}**" for n in totals) + " |\n")


def reason_table(title, reasons, shown):
    """A markdown table of the `shown` most common reasons, and how many rules the rest hold."""
    print(f"### {title}\n")
    print("| rules | reason |")
    print("|---:|---|")
    for reason, n in reasons.most_common(shown):
        escaped = reason.replace("|", "\\|")
        print(f"| {n} | {escaped} |")
    rest = sum(reasons.values()) - sum(n for _, n in reasons.most_common(shown))
    if rest:
        print(f"| {rest} | ({len(reasons) - shown} other reasons) |")
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rules", default=str(DEFAULT_RULES))
    ap.add_argument("--ruleconv", default=None)
    ap.add_argument("--profile", default=None)
    ap.add_argument("--json", default=None, help="also write the per-rule results as JSON")
    ap.add_argument("--pysigma-json", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--pysigma-only", default=None, metavar="DIR",
                    help="convert DIR with pySigma only and print the counts and times (JSON)")
    args = ap.parse_args()

    if args.pysigma_json or args.pysigma_only:  # running inside the venv
        results, timing = pysigma_convert(args.pysigma_only or args.rules)
        if args.pysigma_only:
            timing["rules"] = len(results)
            timing["converted"] = sum(r["converted"] for r in results.values())
            print(json.dumps(timing))
        else:
            Path(args.pysigma_json).write_text(json.dumps({"results": results, "timing": timing}))
        return

    rules_dir = Path(args.rules).resolve()
    ruleconv = Path(args.ruleconv) if args.ruleconv else Path(
        os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" / "ruleconv"
    if not ruleconv.exists():
        sys.exit(f"{ruleconv} is missing: cargo build --release")

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "pysigma.json"
        subprocess.run([str(venv_python()), __file__, "--rules", str(rules_dir), "--pysigma-json", str(out)],
                       check=True)
        py = json.loads(out.read_text())
    pys, timing = py["results"], py["timing"]
    ours = ruleconv_convert(ruleconv, rules_dir, args.profile)

    rows = collections.OrderedDict()
    reasons = collections.Counter()
    gaps = []
    all_paths = sorted(set(pys) | set(ours))
    per_rule = {}
    for path in all_paths:
        p = pys.get(path, {"converted": False, "error": "not loaded by pySigma", "logsource": "?"})
        o = ours.get(path, [{"converted": False, "error": "no record in ruleconv's report"}])
        o_conv = all(r["converted"] for r in o)
        o_err = next((r["error"] for r in o if not r["converted"]), None)
        key = p.get("logsource", "?")
        row = rows.setdefault(key, [0, 0, 0, 0])
        row[0] += 1
        row[1] += p["converted"]
        row[2] += o_conv
        if p["converted"] and not o_conv:
            row[3] += 1
            gaps.append((path, key, o_err))
        if not o_conv:
            reasons[reason_key(o_err)] += 1
        per_rule[path] = {"logsource": key, "pysigma": p["converted"], "pysigma_error": p.get("error"),
                          "ruleconv": o_conv, "ruleconv_error": o_err}

    pyreasons = collections.Counter(
        " ".join(reason_key(v["pysigma_error"]).split(" (while")[0].split())[:120]
        for v in per_rule.values() if not v["pysigma"])

    total = [sum(r[i] for r in rows.values()) for i in range(4)]
    supported = {k: r for k, r in rows.items() if r[1] > 0}
    unsupported = {k: r for k, r in rows.items() if r[1] == 0}
    rel = lambda p: os.path.relpath(p, rules_dir)

    print(f"## ruleconv `--to kql`{' --profile ' + args.profile if args.profile else ''} vs pySigma "
          f"`kusto` + `microsoft_xdr` over {total[0]} rules\n")
    print(f"pySigma converts {total[1]}, ruleconv {total[2]}; {total[3]} rules pySigma converts are not "
          f"converted by ruleconv.\n")
    logsource_table("Logsources pySigma converts at least one rule of", supported,
                    ["rules", "pySigma", "ruleconv", "pySigma only"])
    logsource_table("Logsources pySigma converts no rule of", unsupported, ["rules", "pySigma", "ruleconv"])
    for prefix in ("azure", "m365"):
        sel = [v for v in per_rule.values() if v["logsource"].split("/")[0] == prefix]
        print(f"- `{prefix}`: {len(sel)} rules, pySigma {sum(v['pysigma'] for v in sel)}, "
              f"ruleconv {sum(v['ruleconv'] for v in sel)}")
    print(f"\n**Total** | {total[0]} rules | pySigma {total[1]} | ruleconv {total[2]} | pySigma only {total[3]}\n")

    reason_table("ruleconv's failure reasons (first error of each failed rule)", reasons, 20)
    reason_table("pySigma's failure reasons", pyreasons, 10)
    print(f"### Rules pySigma converts and ruleconv does not ({len(gaps)})\n")
    for path, key, err in gaps:
        print(f"- `{rel(path)}` (`{key}`): {err}")
    if not gaps:
        print("None.")
    print(f"\npySigma: {timing['files']} files loaded in {timing['load_s']:.2f} s, converted in "
          f"{timing['convert_s']:.2f} s (in-process, Python start-up excluded).")

    if args.json:
        Path(args.json).write_text(json.dumps(per_rule, indent=1))


if __name__ == "__main__":
    main()
