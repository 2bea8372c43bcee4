#!/usr/bin/env python3
"""Derives Sentinel column -> UDM path facts for targets/chronicle.yaml from pySigma's mappings.

Reads ../shared/design/reference (pySigma-backend-kusto: Sentinel column <- Sigma field, per
table; pySigma-backend-secops: Sigma field -> UDM path, per event family) and prints, per
table, each column whose Sigma field has a concrete UDM path in the table's family. The
profile's `derived` fields are this output, reviewed; run it with `--check` to list profile
fields that disagree with it and profile UDM paths missing from pySigma's UDM schema, and
`logsources` entries that differ from `--logsources`, which prints that section: for Sigma
input, each Sigma logsource's UDM selectors and its Sigma fields' UDM paths (pySigma-secops'
common family plus the logsource's own, placeholders left out).

    python3 scripts/derive_chronicle_profile.py [--check | --logsources] [REFERENCE_DIR]
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
# Sigma logsource (`category`, or `product/service`, or `product`) -> UDM selectors. Event types
# are UDM enum values; products are the names Google's public rules (../shared/corpus/chronicle)
# and this profile's Sentinel tables use for the same events. A category pySigma-secops has a
# field family for also gets that family's fields.
LOGSOURCES = {
    "process_creation": {"event_type": "PROCESS_LAUNCH"},
    "process_termination": {"event_type": "PROCESS_TERMINATION"},
    "process_access": {"event_type": "PROCESS_OPEN"},
    "create_remote_thread": {"event_type": "PROCESS_INJECTION"},
    "image_load": {"event_type": "PROCESS_MODULE_LOAD"},
    "network_connection": {"event_type": "NETWORK_CONNECTION"},
    "dns_query": {"event_type": "NETWORK_DNS"},
    "dns": {"event_type": "NETWORK_DNS"},
    "proxy": {"event_type": "NETWORK_HTTP"},
    "webserver": {"event_type": "NETWORK_HTTP"},
    "file_event": {"event_type": "FILE_CREATION"},
    "file_delete": {"event_type": "FILE_DELETION"},
    "file_rename": {"event_type": "FILE_MOVE"},
    "file_access": {"event_type": "FILE_OPEN"},
    "file_change": {"event_type": "FILE_MODIFICATION"},
    "registry_add": {"event_type": "REGISTRY_CREATION"},
    "registry_set": {"event_type": "REGISTRY_MODIFICATION"},
    "registry_delete": {"event_type": "REGISTRY_DELETION"},
    # Any registry event: no one event type, so only its fields.
    "registry_event": {},
    "windows/security": {"product_name": "Microsoft-Windows-Security-Auditing"},
    # Other Windows event logs (system, application, PowerShell ...) arrive as Windows event logs.
    "windows": {"log_type": "WINEVTLOG"},
    "windows/sysmon": {"product_name": "Microsoft-Windows-Sysmon"},
    "aws/cloudtrail": {"vendor_name": "AMAZON", "product_name": "AWS CloudTrail"},
    "azure/signinlogs": {"event_type": "USER_LOGIN", "product_name": "Azure AD"},
    "azure/auditlogs": {"product_name": "Azure AD Directory Audit"},
    "azure/activitylogs": {"product_name": "Azure Activity"},
    "okta/okta": {"vendor_name": "Okta", "product_name": "Okta"},
    "github/audit": {"vendor_name": "GITHUB", "product_name": "GITHUB"},
    "gcp/gcp.audit": {"log_type": "GCP_CLOUDAUDIT"},
    "gcp/google_workspace.admin": {"vendor_name": "Google Workspace", "product_name": "admin"},
    "m365/threat_management": {"product_name": "Office 365"},
}
# Product logsources whose events are one of pySigma-secops' families (logons and the like).
LOGSOURCE_FAMILY = {"windows/security": "authentication"}
# Fields of logsources pySigma-secops has no family for, as Google's rules and this profile's
# Sentinel tables place them (AWSCloudTrail: EventName, SourceIpAddress, UserAgent).
EXTRA_FIELDS = {
    "aws/cloudtrail": {
        "eventName": "metadata.product_event_type",
        "sourceIPAddress": "principal.ip",
        "userAgent": "network.http.user_agent",
    },
}
# pySigma-secops' Sigma field -> UDM path maps this profile does not take, by family ("*": all).
# CurrentDirectory (a process's working directory) and ServiceName (a service's name) are not the
# process image's path or names pySigma puts them at, and UDM has no field for them: left
# unmapped, each test is a loss. In file events Sysmon's TargetFilename is the file's full path
# and Image the process acting on it: Google's rules read them at target.file.full_path (484
# references in ../shared/corpus/chronicle, none to target.file.names) and, in FILE_* events,
# principal.process.file.full_path.
REVIEWED_SIGMA = {
    "*": {"CurrentDirectory": None, "ServiceName": None},
    "file": {"TargetFilename": "target.file.full_path", "Image": "principal.process.file.full_path"},
}
# pySigma-secops writes generic placeholders (expanded per noun at run time); not a path.
PLACEHOLDERS = {"file_path", "hostname", "ip", "user", "hash", "process_id", "domain"}


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


def derive_logsources(secops):
    """Each Sigma logsource's selectors and fields (see LOGSOURCES)."""
    udm = secops["sigma_to_udm"]
    out = {}
    for key, selectors in LOGSOURCES.items():
        fields = dict(udm["common"])
        fields.update(udm.get(FAMILY.get(key) or LOGSOURCE_FAMILY.get(key, ""), {}))
        reviewed = dict(REVIEWED_SIGMA["*"], **REVIEWED_SIGMA.get(FAMILY.get(key, ""), {}))
        fields = {f: reviewed.get(f, p) for f, p in fields.items() if p not in PLACEHOLDERS}
        fields = {f: p for f, p in fields.items() if p is not None}
        fields.update(EXTRA_FIELDS.get(key, {}))
        out[key] = dict(selectors, fields=dict(sorted(fields.items())))
    return out


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
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    reference = Path(args[0] if args else Path(__file__).resolve().parents[2] / "shared/design/reference")
    kusto, secops = load(reference)
    derived = derive(kusto, secops)
    logsources = derive_logsources(secops)
    if "--logsources" in sys.argv:
        json.dump({"logsources": logsources}, sys.stdout, indent=2)
        print()
        return
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
    if profile.get("logsources") != logsources:
        print("logsources: the profile differs from --logsources")
        problems += 1
    for key, entry in logsources.items():
        for field, path in entry["fields"].items():
            if path.split("[")[0] not in known:
                print(f"logsource {key}.{field}: {path} is not in pySigma's UDM schema")
                problems += 1
    print(f"{problems} disagreements")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
