#!/usr/bin/env python3
"""Derives targets/sigma.yaml: which Sigma logsource and field names a Sentinel table and its
columns become.

Facts used (paths relative to the shared folder, ../shared by default):
- design/reference/pysigma-kusto-mappings.json: pySigma-backend-kusto's Sigma category -> table
  and Sigma field -> column maps, read backwards;
- corpus/sigma: the logsources and field names SigmaHQ rules actually use;
- design/reference/sentinel-table-schemas.json: the columns of Sentinel tables;
- tools/sigma-fields/logsource.json: SigmaHQ's field list per logsource (tests/logsource.json of
  SigmaHQ/sigma, the list its CI holds rules to); a column only takes a Sigma name listed for its
  table's logsource, and `--to sigma` checks every field it writes against the same lists;
- FORMS and ACTION_TYPES below: Defender XDR columns whose values Sigma keeps in a field of another
  shape, and the Defender action types that are a Sigma category of their own (Microsoft's and
  Sysmon's documentation, cited there).

Tables get a logsource only from these facts:
1. pySigma's category -> table maps (Defender XDR and ASIM pipelines): a table that several
   categories map to takes the generic `*_event` category, else it stays unmapped (ambiguous);
2. SERVICE_TABLES below: tables that are the same log as a SigmaHQ product/service (the script
   checks that SigmaHQ rules use that logsource);
3. the cloud logsources `--to kql` maps to a whole table (derive_kql_profile.py's CLOUD), read
   backwards, so that Sigma → KQL → Sigma gives the logsource and field names back; those it
   maps to one value of a column (Event's `EventLog`) become `table/value` entries.
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
    # IIS's W3C log (Microsoft's IIS connector docs), SigmaHQ's generic web server logsource.
    "W3CIISLog": {"category": "webserver"},
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

# Defender XDR columns whose values Sigma (Sysmon's fields) holds in a field of another shape, and
# the form that says how a test moves there (src/emit/sigma/forms.rs):
# - `basename`: the column is a file name (Defender's `FileName`, `InitiatingProcessFileName`: "name
#   of the file/process"), the Sigma field a full path (Sysmon's `Image`, `TargetFilename`,
#   `ImageLoaded`);
# - `account-name`/`account-domain`: Defender splits the account (`AccountName`, `AccountDomain`),
#   Sysmon's `User` is `DOMAIN\name`;
# - `sha256`/`sha1`/`md5`: Defender has a column per algorithm, Sysmon one `Hashes` field of
#   `ALGO=value` pairs (Sysmon's `HashAlgorithms` setting);
# - `registry-key`/`registry-value-name`/`registry-data`: Defender's `RegistryKey` spells hives in
#   full (`HKEY_LOCAL_MACHINE`) and keeps the value name apart; Sysmon's `TargetObject` is the key
#   with short hive names (`HKLM`, `HKU`) then the value name, and `Details` writes numbers as
#   `DWORD (0x...)`.
# Sources: learn.microsoft.com/defender-xdr/advanced-hunting-device*-table (column meanings);
# learn.microsoft.com/sysinternals/downloads/sysmon (event fields and their formats).
ACCOUNT = {"account-name": "AccountName", "account-domain": "AccountDomain"}
HASHES = {"sha256": "SHA256", "sha1": "SHA1", "md5": "MD5"}


def xdr_forms(path_of_file, path_of_process, user, hashes=True, parent=None):
    # `DeviceName` is the device's FQDN, as Windows logs' `Computer` (a plain rename).
    forms = {"DeviceName": ("Computer", None), "InitiatingProcessFileName": (path_of_process, "basename")}
    forms.update({f"InitiatingProcess{column}": (user, form) for form, column in ACCOUNT.items()})
    if path_of_file:
        forms["FileName"] = (path_of_file, "basename")
    if hashes:
        forms.update({column: ("Hashes", form) for form, column in HASHES.items()})
    if parent:
        forms["InitiatingProcessParentFileName"] = (parent, "basename")
    return forms


FORMS = {
    "DeviceProcessEvents": {
        **xdr_forms("Image", "ParentImage", "ParentUser", parent="GrandParentImage"),
        **{column: ("User", form) for form, column in ACCOUNT.items()},
    },
    # SigmaHQ lists `Hashes` for file_delete, not file_event: the check drops it there.
    "DeviceFileEvents": xdr_forms("TargetFilename", "Image", "User", parent="ParentImage"),
    "DeviceImageLoadEvents": xdr_forms("ImageLoaded", "Image", "User"),
    "DeviceNetworkEvents": xdr_forms(None, "Image", "User", hashes=False, parent="ParentImage"),
    "DeviceRegistryEvents": {
        **xdr_forms(None, "Image", "User", hashes=False),
        "RegistryKey": ("TargetObject", "registry-key"),
        "RegistryValueName": ("TargetObject", "registry-value-name"),
        "RegistryValueData": ("Details", "registry-data"),
    },
    # Event 4688's `Process` is the new process's file name (`NewProcessName` its path). Its
    # creator subject (`SubjectUserName`, `SubjectDomainName`) is the account that asked for the
    # process: Sysmon's `ParentUser` (Microsoft's event 4688 reference, "Creator Subject"); the
    # log names the local system account by the computer's (`HOST$`), Sysmon `NT AUTHORITY\SYSTEM`.
    "SecurityEvent/4688": {
        "Process": ("Image", "basename"),
        "SubjectUserName": ("ParentUser", "security-account-name"),
        "SubjectDomainName": ("ParentUser", "account-domain"),
    },
}
# Columns pySigma's map sends to a Sysmon field that holds something else, left unmapped (a test
# of one is dropped with its loss): event 4688's `NewProcessId` is hexadecimal (`0x13f8`) where
# Sysmon's `ProcessId` is decimal; it carries no hash (`FileHash` is AppLocker's) and no
# `LogonID` (its logons are the subjects' `SubjectLogonId` and `TargetLogonId`).
NOT_MAPPED = {"SecurityEvent/4688": ["NewProcessId", "FileHash", "LogonID"]}
# The column telling a table's events apart, for tables some of whose events have a logsource of
# their own (`table/value` entries); `implied`: the logsource says it, so the test is not written.
SELECTORS = {"SecurityEvent": "EventID", **{t: "ActionType" for t in FORMS if t.startswith("Device")}}
# Defender action types that are one Sigma category (Sysmon event): file created (11), deleted
# (23/26), renamed; registry value set (13), key created and deleted (12); process created (1);
# image loaded (7). Values as Microsoft's published hunting queries test them.
ACTION_TYPES = {
    "DeviceProcessEvents": {"ProcessCreated": "process_creation"},
    "DeviceFileEvents": {"FileCreated": "file_event", "FileDeleted": "file_delete", "FileRenamed": "file_rename"},
    "DeviceImageLoadEvents": {"ImageLoaded": "image_load"},
    "DeviceRegistryEvents": {
        "RegistryValueSet": "registry_set",
        "RegistryKeyCreated": "registry_add",
        "RegistryKeyDeleted": "registry_delete",
        "RegistryValueDeleted": "registry_delete",
    },
}

# Defender names a connection's ends by where the sensor sits (Local*, Remote*), Sysmon by who
# opened it (Source*: the initiator, Destination*: the other end; `Initiated`). The table's map
# (Local → Source, Remote → Destination) holds for the connections the device opened, the action
# types Microsoft's DeviceNetworkEvents reference lists for them; on an accepted inbound
# connection the ends swap. Each action type is a `table/value` entry whose events meet the Sigma
# test it `implies`, written in place of the selector's test; `by_direction` lists the table's
# columns whose Sigma field the direction decides, so that a rule reading one without choosing a
# direction says so.
OUTBOUND = ["ConnectionSuccess", "ConnectionAttempt", "ConnectionFailed", "ConnectionRequest"]
INBOUND = ["InboundConnectionAccepted"]
ENDS = {"LocalIP": "IP", "LocalPort": "Port", "RemoteIP": "IP", "RemotePort": "Port", "RemoteUrl": "Hostname"}
DIRECTED = {
    "DeviceNetworkEvents": {
        "field": "Initiated",
        "outbound": {c: ("Source" if c.startswith("Local") else "Destination") + ("Ip" if e == "IP" else e) for c, e in ENDS.items()},
        "inbound": {c: ("Destination" if c.startswith("Local") else "Source") + ("Ip" if e == "IP" else e) for c, e in ENDS.items()},
    }
}


def directed_entries(table, ls, fields):
    """The `table/value` entries of a table whose ends swap with the direction, and the table's
    columns the direction decides."""
    spec = DIRECTED[table]
    entries = {f"{table}/{value}": {"logsource": ls, "implies": {spec["field"]: "true"}} for value in OUTBOUND}
    inbound = {**fields, **spec["inbound"]}
    for value in INBOUND:
        entries[f"{table}/{value}"] = {"logsource": ls, "implies": {spec["field"]: "false"}, "fields": dict(sorted(inbound.items()))}
    return entries, sorted(spec["outbound"])


def sigmahq_fields(shared):
    """SigmaHQ's field lists as sigma-fields applies them: `product/category` or `product/service`
    (product empty for none) -> the fields listed there, with the product's common and addon ones.
    Logsources without a list (SigmaHQ judges no fields there) are left out."""
    taxonomy = json.load(open(os.path.join(shared, "tools/sigma-fields/logsource.json")))
    out, addons = {}, {}
    for product, table in taxonomy["legit"].items():
        addon = taxonomy["addon"].get(product, {})
        for kind in ("category", "service"):
            for name, fields in table[kind].items():
                extra = addon.get(kind, {}).get(name, [])
                listed = fields + extra
                key = f"{'' if product == 'empty' else product}/{name}"
                if listed:
                    out[key] = sorted(set(listed) | set(table.get("common", [])))
                if set(extra) - set(fields):
                    addons[key] = sorted(set(extra) - set(fields))
    return taxonomy["title"], out, addons


def listed_key(ls, lists):
    """The field list of a logsource, looked up as sigma-fields does (category before service)."""
    for kind in ("category", "service"):
        key = f"{ls.get('product', '')}/{ls.get(kind)}"
        if ls.get(kind) and key in lists:
            return key
    return None


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
    lists_title, lists, addons = sigmahq_fields(shared)

    tables = {t: (ls, p) for t, (ls, p) in table_logsources(mappings).items()}
    for table, ls in SERVICE_TABLES.items():
        assert counts[logsource_key(ls)] > 0, f"no SigmaHQ rule uses {ls}"
        tables[table] = (ls, FIELDS_FROM_PIPELINE.get(table))
    # A table that holds the whole logsource (no condition narrows it) maps back to it.
    cloud_fields, selectors, events, implied = {}, dict(SELECTORS), {}, set()
    for ls, table, condition, sigma_fields in CLOUD:
        if condition is None:
            tables.setdefault(table, (ls, FIELDS_FROM_PIPELINE.get(table)))
            cloud_fields[table] = sigma_fields
        elif len(condition) == 1:
            # A logsource `--to kql` reads as the table's events of one value of a column
            # (Event's `EventLog == "System"`): that value of the column is the logsource.
            (column, value), = condition.items()
            selectors[table] = column
            renamed = {c: f for f, c in sigma_fields.items() if "." not in c}
            events[f"{table}/{value}"] = {"logsource": ls, "implied": True, "fields": dict(sorted(renamed.items()))}
    for (table, event_id), (ls, pipeline) in GENERIC_EVENTS.items():
        tables[f"{table}/{event_id}"] = (ls, pipeline)
        # The category says which event it is (Sysmon's process creation is event 1, not 4688).
        implied.add(f"{table}/{event_id}")

    profile, report, scoped = {}, [], {}
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
        # SigmaHQ's spelling of a column's own name: its rules' fields, then the listed ones (IIS's
        # `cs-uri-stem` for `csUriStem`), ignoring case and dashes.
        listed = lists.get(listed_key(ls, lists), [])
        spelled = {f.replace("-", "").lower(): f for f in sorted(listed)}
        spelled.update({f.lower(): f for f in sorted(corpus_fields[logsource_key(ls)])})
        for column in sorted(columns):
            own = spelled.get(column.lower())
            if column not in fields and own and own not in taken:
                fields[column] = (own, True)
        # A Sigma name SigmaHQ does not list for the logsource is no name there; the selector
        # column's values are not the Sigma field's (Defender `ActionType` is no Sysmon `EventType`).
        unlisted = {c for c, (f, _) in fields.items() if (listed and f not in listed) or c == SELECTORS.get(base_table)}
        renamed = {c: f for c, (f, _) in sorted(fields.items()) if c != f and c not in unlisted}
        renamed.update({c: {"field": f, "form": form} if form else f for c, (f, form) in FORMS.get(table, {}).items()})
        renamed = {c: f for c, f in renamed.items() if c not in NOT_MAPPED.get(table, [])}
        profile[table] = {"logsource": ls, "fields": dict(sorted(renamed.items())), "implied": table in implied}
        if table in DIRECTED:
            assert all(renamed.get(c) == f for c, f in DIRECTED[table]["outbound"].items()), f"{table}: the outbound reading is the table's"
            entries, profile[table]["by_direction"] = directed_entries(table, ls, renamed)
            scoped.update(entries)
        report.append(
            f"#   {table}: {len(renamed)} of {len(columns)} columns take a Sigma name"
            f"{f' ({len(unlisted)} names SigmaHQ does not list dropped)' if unlisted else ''}"
        )
        for value, category in ACTION_TYPES.get(table, {}).items():
            scoped[f"{table}/{value}"] = {"logsource": {"category": category, "product": "windows"}, "implied": True}

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
    print("# ATT&CK Enterprise tactics by id: only these become `attack.<tactic>` tags (ICS tactics such")
    print("# as TA0107 Inhibit Response Function are not Enterprise tags).")
    print(f"tactics: [{', '.join(sorted(attack['tactics']))}]")
    print(f"# SigmaHQ's field lists ({lists_title}, tools/sigma-fields/logsource.json), by")
    print("# `product/category` or `product/service` (those of the tables below): every field")
    print("# `--to sigma` writes under one is checked.")
    print("sigmahq_fields:")
    used = {listed_key(entry["logsource"], lists) for entry in [*profile.values(), *scoped.values()]}
    for key, fields in sorted(lists.items()):
        if key in used:
            print(f"  {json.dumps(key)}: [{', '.join(json.dumps(f) for f in fields)}]")
    print("# SigmaHQ's add-on fields of those logsources (logsource.json `addon`): listed for other")
    print("# sensors, absent from the event the logsource's own log writes (Sysmon's file event has no")
    print("# CommandLine); a test on one never holds on that log.")
    print("sigmahq_addon_fields:")
    for key, fields in sorted(addons.items()):
        if key in used:
            print(f"  {json.dumps(key)}: [{', '.join(json.dumps(f) for f in fields)}]")
    print("# The column telling apart a table's events that have logsources of their own (`table/value`).")
    print("selectors:")
    for table, column in sorted(selectors.items()):
        print(f"  {table}: {column}")
    profile.update(scoped)
    profile.update(events)
    print("tables:")
    for table, entry in sorted(profile.items()):
        ls = ", ".join(f"{k}: {v}" for k, v in entry["logsource"].items())
        print(f"  {table}:")
        print(f"    logsource: {{{ls}}}")
        if entry.get("implied"):
            print("    implied: true")
        if entry.get("implies"):
            print(f"    implies: {{{', '.join(f'{k}: {json.dumps(v)}' for k, v in entry['implies'].items())}}}")
        if entry.get("by_direction"):
            print(f"    by_direction: [{', '.join(entry['by_direction'])}]")
        if entry.get("fields"):
            print("    fields:")
            for column, field in entry["fields"].items():
                if isinstance(field, dict):
                    field = f"{{field: {field['field']}, form: {field['form']}}}"
                print(f"      {column}: {field}")


if __name__ == "__main__":
    main()
