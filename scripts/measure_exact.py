#!/usr/bin/env python3
"""Measure what `exact` is worth on the targets' real schemas (issue 18's done-when numbers).

    scripts/measure_exact.py [--ruleconv BIN] [--work DIR] [kql] [sigma] [chronicle] [check]

- kql: SigmaHQ → KQL in each built-in profile, every output checked by Microsoft's analyzer with
  the Sentinel/Defender/ASIM schemas (`kusto-oracle --schema`): how many `exact` outputs it
  rejects, and which names.
- sigma: Sentinel corpus → Sigma, checked against SigmaHQ's field list (`sigma-fields`).
- chronicle: both corpora → YARA-L, checked against UDM (`yaral-udm`).
- check: `ruleconv check` over the Sentinel corpus against Microsoft's analyzer on each query:
  an `unknown-column` the analyzer does not report (KS142 naming it) is a false flag.
Reads ../shared beside the repository; writes only under --work (default /tmp/ruleconv-measure).
"""
import argparse, collections, json, pathlib, shutil, subprocess, sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / 'shared'
SIGMA_RULES = SHARED / 'corpus/sigma/rules'
SENTINEL_RULES = SHARED / 'corpus/sentinel'


def convert(binary, work, name, source, target, extra=()):
    out = work / name
    shutil.rmtree(out, ignore_errors=True)
    report = work / f'{name}.json'
    # ruleconv keeps a report it did not write this run: a stale one would list old outputs.
    report.unlink(missing_ok=True)
    subprocess.run([binary, 'convert', str(source), '--to', target, '-o', str(out), '--report', str(report), '-q', *extra],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return [r for r in json.loads(report.read_text())['records'] if r.get('output')]


def measure_kql(binary, work):
    for profile in ('sentinel', 'asim', 'azure-monitor'):
        records = convert(binary, work, f'kql-{profile}', SIGMA_RULES, 'kql', ['--profile', profile])
        lines = [json.dumps({'id': i, 'query': pathlib.Path(r['output']).read_text()}) for i, r in enumerate(records)]
        answer = subprocess.run([SHARED / 'tools/kusto-oracle/kusto-oracle', '--jsonl', '--schema'], input='\n'.join(lines) + '\n',
                                capture_output=True, text=True, check=True).stdout
        rejected = collections.Counter()
        bad_exact, bad_total, unflagged = 0, 0, []
        for line in answer.splitlines():
            a = json.loads(line)
            record = records[a['id']]
            errors = [d for d in a.get('semantic', []) if d['code'] in ('KS142', 'KS107', 'KS106', 'KS204')] + a['diagnostics']
            if not errors:
                continue
            bad_total += 1
            if record['fidelity'] == 'exact':
                bad_exact += 1
                unflagged.append(record['source'])
            for d in errors:
                rejected[d.get('message', '')[:70]] += 1
        exact = sum(r['fidelity'] == 'exact' for r in records)
        print(f'kql/{profile}: {len(records)} outputs, {exact} exact; analyzer rejects {bad_total} '
              f'({100 * (len(records) - bad_total) / max(len(records), 1):.1f}% clean), {bad_exact} of them exact')
        for message, n in rejected.most_common(8):
            print(f'    {n:5}  {message}')
        for source in unflagged[:5]:
            print(f'    exact but rejected: {source}')


def measure_sigma(binary, work):
    records = convert(binary, work, 'sigma', SENTINEL_RULES, 'sigma')
    out = subprocess.run([SHARED / 'tools/sigma-fields/sigma-fields', '--json', str(work / 'sigma')], capture_output=True, text=True).stdout
    known, bad, fields, sentinel = 0, 0, collections.Counter(), 0
    for line in out.splitlines():
        r = json.loads(line)
        if r.get('logsource_known'):
            known += 1
            if r.get('unknown_fields'):
                bad += 1
                fields.update(r['unknown_fields'])
        else:
            sentinel += 1
    print(f'sigma: {len(records)} rules converted; {known} outputs with a SigmaHQ logsource, {bad} use unlisted fields; {sentinel} on other logsources')
    for field, n in fields.most_common(8):
        print(f'    {n:5}  {field}')


def measure_chronicle(binary, work):
    for name, source in (('chronicle-sentinel', SENTINEL_RULES), ('chronicle-sigma', SIGMA_RULES)):
        records = convert(binary, work, name, source, 'chronicle')
        out = subprocess.run([SHARED / 'tools/yaral-udm/yaral-udm', '--json', str(work / name)], capture_output=True, text=True).stdout
        kinds, bad = collections.Counter(), 0
        for line in out.splitlines():
            r = json.loads(line)
            if r['problems']:
                bad += 1
                kinds.update(p['kind'] for p in r['problems'])
        fidelity = collections.Counter(r['fidelity'] for r in records)
        print(f'{name}: {len(records)} outputs {dict(fidelity)}; yaral-udm: {bad} rules with problems {dict(kinds)}')


def measure_check(binary, work):
    import yaml
    out = subprocess.run([binary, 'check', str(SENTINEL_RULES), '--format', 'json'], capture_output=True, text=True).stdout
    flagged = collections.defaultdict(set)
    typed = collections.Counter()
    for record in json.loads(out):
        for p in record['warnings'] + record['errors']:
            if p['code'] == 'unknown-column':
                flagged[str(pathlib.Path(record['file']).resolve())].add(p['message'].split('`')[1])
            if p['code'] == 'column-type':
                typed[str(pathlib.Path(record['file']).resolve())] += 1
    files = sorted(str(f.resolve()) for f in SENTINEL_RULES.rglob('*') if f.suffix in ('.yaml', '.yml'))
    lines = []
    for i, f in enumerate(files):
        try:
            query = (yaml.safe_load(pathlib.Path(f).read_text()) or {}).get('query')
        except yaml.YAMLError:
            query = None
        if isinstance(query, str):
            lines.append(json.dumps({'id': i, 'query': query}))
    answer = subprocess.run([SHARED / 'tools/kusto-oracle/kusto-oracle', '--jsonl', '--schema'], input='\n'.join(lines) + '\n',
                            capture_output=True, text=True, check=True).stdout
    refused = collections.defaultdict(set)
    type_errors = collections.Counter()
    for line in answer.splitlines():
        a = json.loads(line)
        for d in a.get('semantic', []):
            if d['code'] == 'KS142' and d['message'].startswith("The name '"):
                refused[files[a['id']]].add(d['message'].split("'")[1])
            if d['code'] in ('KS106', 'KS107'):
                type_errors[files[a['id']]] += 1
    true = sum(len(names & refused.get(f, set())) for f, names in flagged.items())
    false = [(f, sorted(names - refused.get(f, set()))) for f, names in flagged.items() if names - refused.get(f, set())]
    print(f'check: {len(lines)} corpus queries; analyzer refuses names in {len(refused)}; check flags {true} unknown columns '
          f'the analyzer also refuses, in {len(flagged)} rules; {sum(len(n) for _, n in false)} false flags')
    for f, names in false[:10]:
        print(f'    false flag: {f}: {names}')
    # A column-type flag is false where the analyzer reports fewer type errors in that file.
    typed_false = sum(max(0, n - type_errors.get(f, 0)) for f, n in typed.items())
    print(f'check: analyzer type errors (KS106/KS107) {sum(type_errors.values())} in {len(type_errors)} rules; '
          f'check flags {sum(typed.values())} column-type comparisons in {len(typed)} rules; {typed_false} false flags')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--ruleconv', default=str(ROOT / 'target/release/ruleconv'))
    parser.add_argument('--work', default='/tmp/ruleconv-measure')
    parser.add_argument('what', nargs='*', default=['kql', 'sigma', 'chronicle', 'check'])
    args = parser.parse_args()
    work = pathlib.Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    for what in args.what:
        {'kql': measure_kql, 'sigma': measure_sigma, 'chronicle': measure_chronicle, 'check': measure_check}[what](args.ruleconv, work)


if __name__ == '__main__':
    sys.exit(main())
