#!/usr/bin/env python3
"""Derives Sentinel column -> UDM path facts for targets/chronicle.yaml from pySigma's mappings.

Reads ../shared/design/reference (pySigma-backend-kusto: Sentinel column <- Sigma field, per
table; pySigma-backend-secops: Sigma field -> UDM path, per event family) and prints, per
table, each column whose Sigma field has a concrete UDM path in the table's family. The
profile's `derived` fields are this output, reviewed; run it with `--check` to list profile
fields that disagree with it and profile UDM paths missing from pySigma's UDM schema.

    python3 scripts/derive_chronicle_profile.py [--check] [REFERENCE_DIR]
"""
import json
import sys
from pathlib import Path

# Sigma logsource category -> pySigma-secops event family (its `sigma_to_udm` keys).
FAMILY = {
    "process_creation": "process",
    "network_connection": "network",
    "dns_query": "dns",
    "file_event": "file", "file_access": "file", "file_change": "file", "file_delete": "file", "file_rename": "file",
    "registry_event": "registry", "registry_add": "registry", "registry_delete": "registry", "registry_set": "registry",
}
# pySigma-secops writes generic placeholders (expanded per noun at run time); not a path.
PLACEHOLDERS = {"file_path", "hostname", "ip", "user", "hash", "process_id"}


def load(reference):
    kusto = json.loads((reference / "pysigma-kusto-mappings.json").read_text())
    secops = json.loads((reference / "pysigma-secops-udm.json").read_text())
    return kusto, secops


def table_families(pipeline):
    """Each table's event family, from the categories pySigma sends to it."""
    families = {}
    for category, table in pipeline["category_to_table"].items():
        if category in FAMILY:
            families.setdefault(table, set()).add(FAMILY[category])
    return families


def derive(kusto, secops):
    udm = secops["sigma_to_udm"]
    derived = {}
    for name in ("microsoftxdr", "sentinelasim", "azuremonitor"):
        pipeline = kusto[name]
        mappings = pipeline["field_mappings"]
        for table, families in sorted(table_families(pipeline).items()):
            if len(families) != 1:
                continue  # a table serving several families (SecurityEvent) needs its EventID: reviewed by hand
            family = families.pop()
            columns = dict(mappings["generic_mappings"])
            columns.update(mappings["table_mappings"].get(table, {}))
            for sigma, column in sorted(columns.items()):
                path = udm[family].get(sigma) or udm["common"].get(sigma)
                if not path or path in PLACEHOLDERS:
                    continue
                for one in column if isinstance(column, list) else [column]:
                    derived.setdefault(table, {}).setdefault(one, path)
    return derived


def schema_paths(secops):
    """Every field path of pySigma's UDM schema, to check profile paths against."""
    schema = secops["udm_schema"]
    paths = set()

    def walk(prefix, type_name, depth):
        fields = schema["Subtypes"].get(type_name)
        if fields is None or depth > 6:
            return
        for field, sub in fields.items():
            path = f"{prefix}.{field}"
            paths.add(path)
            walk(path, sub.lstrip("@"), depth + 1)

    top_level = schema["TopLevelFields"]
    for top, fields in top_level.items():
        # A noun (principal, target ...) has the fields of the `noun` type.
        fields = top_level["noun"] if top in schema["Nouns"] else fields
        paths.add(top)
        for field, sub in fields.items():
            paths.add(f"{top}.{field}")
            walk(f"{top}.{field}", sub.lstrip("@"), 1)
    return paths


def main():
    args = [a for a in sys.argv[1:] if a != "--check"]
    reference = Path(args[0] if args else Path(__file__).resolve().parents[2] / "shared/design/reference")
    kusto, secops = load(reference)
    derived = derive(kusto, secops)
    if "--check" not in sys.argv:
        json.dump(derived, sys.stdout, indent=2, sort_keys=True)
        print()
        return
    import yaml  # noqa: E402  (only the check needs PyYAML)

    profile = yaml.safe_load((Path(__file__).resolve().parents[1] / "targets/chronicle.yaml").read_text())
    known = schema_paths(secops)
    problems = 0
    for table, entry in profile["tables"].items():
        for column, path in (entry.get("fields") or {}).items():
            fact = derived.get(table, {}).get(column)
            if fact and fact != path and column not in entry.get("reviewed", []):
                print(f"{table}.{column}: profile says {path}, pySigma says {fact}")
                problems += 1
            if path.split("[")[0] not in known:
                print(f"{table}.{column}: {path} is not in pySigma's UDM schema")
                problems += 1
    for table, columns in derived.items():
        entry = profile["tables"].get(table, {})
        for column in columns:
            if column not in (entry.get("fields") or {}) and column not in entry.get("reviewed", []):
                print(f"{table}.{column}: derived as {columns[column]} but not in the profile")
                problems += 1
    print(f"{problems} disagreements")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
