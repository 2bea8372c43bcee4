#!/usr/bin/env python3
"""Derives targets/sigma.yaml: which Sigma logsource and field names a Sentinel table and its
columns become.

Facts used (paths relative to the shared folder, ../shared by default):
- design/reference/pysigma-kusto-mappings.json: pySigma-backend-kusto's Sigma category -> table
  and Sigma field -> column maps, read backwards;
- corpus/sigma: the logsources and field names SigmaHQ rules actually use;
- design/reference/sentinel-table-schemas.json: the columns of Sentinel tables.

Tables get a logsource only from these facts:
1. pySigma's category -> table maps (Defender XDR and ASIM pipelines): a table that several
   categories map to takes the generic `*_event` category, else it stays unmapped (ambiguous);
2. SERVICE_TABLES below: tables that are the same log as a SigmaHQ product/service (the script
   checks that SigmaHQ rules use that logsource);
3. the cloud logsources `--to kql` maps to a whole table (derive_kql_profile.py's CLOUD), read
   backwards, so that Sigma → KQL → Sigma gives the logsource and field names back.
Columns map to Sigma fields from pySigma's field maps (table-specific before generic), else from
CLOUD's field maps read backwards, else to a field SigmaHQ rules of the table's logsource use
that equals the column ignoring case (and no other column is).
Everything else keeps its KQL name; tables not listed get a custom logsource in the emitter.

Usage: scripts/derive_sigma_profile.py [SHARED_DIR] > targets/sigma.yaml
"""
import collections
import glob
import json
import os
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from derive_kql_profile import CLOUD  # noqa: E402  (the facts `--to kql` maps with)

# Sentinel tables holding the same events as a SigmaHQ logsource (Microsoft's connector docs
# name the source log of each).
SERVICE_TABLES = {
    "SecurityEvent": {"product": "windows", "service": "security"},
    "SigninLogs": {"product": "azure", "service": "signinlogs"},
    "AuditLogs": {"product": "azure", "service": "auditlogs"},
    "AzureActivity": {"product": "azure", "service": "activitylogs"},
    "AWSCloudTrail": {"product": "aws", "service": "cloudtrail"},
    "Okta_CL": {"product": "okta", "service": "okta"},
    "GCPAuditLogs": {"product": "gcp", "service": "gcp.audit"},
}
# pySigma's field map for SigninLogs is the one for `service: signinlogs`. Its SecurityEvent map
# serves the generic categories (Image -> NewProcessName), not `service: security`, whose SigmaHQ
# rules use the event's own names, so SecurityEvent columns only match corpus fields.
FIELDS_FROM_PIPELINE = {"SigninLogs": "azuremonitor"}
# Windows security events that SigmaHQ (and pySigma's `specific_instead_of_generic_logsource`
# check) want under a generic category; pySigma maps that category back to SecurityEvent with the
# field map below, so a SecurityEvent rule on the event takes that category and those names.
GENERIC_EVENTS = {("SecurityEvent", 4688): ({"category": "process_creation", "product": "windows"}, "azuremonitor")}
PRODUCT_OF_PIPELINE = {"microsoftxdr": "windows", "sentinelasim": None}


def logsource_key(ls):
    return tuple((k, ls[k]) for k in ("category", "product", "service") if ls.get(k))


def sigma_corpus(shared):
    """SigmaHQ logsources -> rule count and the field names their rules use."""
    counts, fields = collections.Counter(), collections.defaultdict(set)
    for path in glob.glob(os.path.join(shared, "corpus/sigma/rules/**/*.yml"), recursive=True):
        try:
            docs = list(yaml.safe_load_all(open(path, encoding="utf-8")))
        except yaml.YAMLError:
            continue
        for doc in docs:
            if not isinstance(doc, dict) or not isinstance(doc.get("logsource"), dict):
                continue
            key = logsource_key(doc["logsource"])
            counts[key] += 1
            for selection in (doc.get("detection") or {}).values():
                for item in selection if isinstance(selection, list) else [selection]:
                    if isinstance(item, dict):
                        fields[key].update(str(name).split("|")[0] for name in item)
    return counts, fields


def table_logsources(mappings):
    """pySigma's category -> table maps read backwards: table -> (logsource, pipeline)."""
    out = {}
    for pipeline, product in PRODUCT_OF_PIPELINE.items():
        by_table = collections.defaultdict(list)
        for category, table in mappings[pipeline]["category_to_table"].items():
            by_table[table].append(category)
        for table, categories in by_table.items():
            generic = [c for c in categories if c.endswith("_event")] if len(categories) > 1 else categories
            if len(generic) == 1:
                ls = {"category": generic[0]}
                if product:
                    ls["product"] = product
                out[table] = (ls, pipeline)
    return out


def main():
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../shared")
    mappings = json.load(open(os.path.join(shared, "design/reference/pysigma-kusto-mappings.json")))
    schemas = json.load(open(os.path.join(shared, "design/reference/sentinel-table-schemas.json")))
    counts, corpus_fields = sigma_corpus(shared)

    tables = {t: (ls, p) for t, (ls, p) in table_logsources(mappings).items()}
    for table, ls in SERVICE_TABLES.items():
        assert counts[logsource_key(ls)] > 0, f"no SigmaHQ rule uses {ls}"
        tables[table] = (ls, FIELDS_FROM_PIPELINE.get(table))
    # A table that holds the whole logsource (no condition narrows it) maps back to it.
    cloud_fields = {}
    for ls, table, condition, sigma_fields in CLOUD:
        if condition is None:
            tables.setdefault(table, (ls, FIELDS_FROM_PIPELINE.get(table)))
            cloud_fields[table] = sigma_fields
    for (table, event_id), (ls, pipeline) in GENERIC_EVENTS.items():
        tables[f"{table}/{event_id}"] = (ls, pipeline)

    profile, report = {}, []
    for table in sorted(tables):
        ls, pipeline = tables[table]
        base_table = table.split("/")[0]
        columns = {name for name, _type in schemas.get(base_table, {}).get("columns", [])}
        for pipe in mappings.values():
            if isinstance(pipe, dict) and base_table in pipe.get("tables", {}):
                columns |= set(pipe["tables"][base_table])
        fields = {}
        if pipeline:
            maps = mappings[pipeline]["field_mappings"]
            for source in (maps["table_mappings"].get(base_table, {}), maps["generic_mappings"]):
                for sigma_field, column in sorted(source.items()):
                    # One Sigma field per column and one column per Sigma field, table-specific maps
                    # first; among several Sigma names of one column, the one SigmaHQ rules use.
                    used = sigma_field in corpus_fields[logsource_key(ls)]
                    taken = any(f == sigma_field for f, _ in fields.values())
                    if isinstance(column, str) and not taken and (column not in fields or (used and not fields[column][1])):
                        fields[column] = (sigma_field, used)
        # Then `--to kql`'s names, the first listed for a column (a dotted column is a path),
        # so that its Sigma field comes back; then SigmaHQ's spelling of a column's own name.
        for sigma_field, column in cloud_fields.get(table, {}).items():
            if "." not in column and column not in fields:
                fields[column] = (sigma_field, False)
        taken = {f for f, _ in fields.values()}
        by_lower = {f.lower(): f for f in sorted(corpus_fields[logsource_key(ls)])}
        for column in sorted(columns):
            if column not in fields and column.lower() in by_lower and by_lower[column.lower()] not in taken:
                fields[column] = (by_lower[column.lower()], True)
        renamed = {c: f for c, (f, _) in sorted(fields.items()) if c != f}
        profile[table] = {"logsource": ls, "fields": renamed}
        report.append(f"#   {table}: {len(fields)} of {len(columns)} columns have a Sigma field, {len(renamed)} renamed")

    print("# The Sigma logsource and field names of Sentinel tables and columns, for `--to sigma`.")
    print("# Derived by scripts/derive_sigma_profile.py from pySigma-backend-kusto's mappings and the")
    print("# SigmaHQ corpus (see the script); do not edit by hand. Unlisted tables get a custom logsource.")
    print(f"# {len(profile)} tables (`table/EventID` for one event of a table) with a Sigma logsource:")
    print("\n".join(report))
    attack = json.load(open(os.path.join(shared, "design/reference/attack-enterprise.json")))
    techniques = sorted(attack["techniques"])
    print(f"# {len(techniques)} ATT&CK Enterprise techniques (design/reference/attack-enterprise.json): only")
    print("# these become `attack.t...` tags, since Sigma's tools know no others.")
    rows = [", ".join(techniques[start : start + 10]) for start in range(0, len(techniques), 10)]
    print("techniques: [\n  " + ",\n  ".join(rows) + "\n]")
    print("tables:")
    for table, entry in profile.items():
        ls = ", ".join(f"{k}: {v}" for k, v in entry["logsource"].items())
        print(f"  {table}:")
        print(f"    logsource: {{{ls}}}")
        if entry["fields"]:
            print("    fields:")
            for column, field in entry["fields"].items():
                print(f"      {column}: {field}")


if __name__ == "__main__":
    main()
