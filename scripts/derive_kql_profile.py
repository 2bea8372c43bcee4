#!/usr/bin/env python3
"""Derives targets/kql.yaml, the Sigma logsource → table and Sigma field → column profiles of
`--to kql`, from pySigma-backend-kusto's pipelines (../shared/design/reference/
pysigma-kusto-mappings.json) plus the cloud logsources those pipelines do not cover, listed
here by hand and checked against ../shared/design/reference/sentinel-table-schemas.json.

    python3 scripts/derive_kql_profile.py [SHARED_DIR] > targets/kql.yaml
"""

import json
import sys
from pathlib import Path

SHARED = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "../shared")
MAPPINGS = json.loads((SHARED / "design/reference/pysigma-kusto-mappings.json").read_text())
SCHEMAS = json.loads((SHARED / "design/reference/sentinel-table-schemas.json").read_text())

# Our profile name → (pySigma pipeline, what it is for).
PIPELINES = {
    "sentinel": ("microsoftxdr", "Defender XDR tables (Device*Events) for endpoint logsources, as pySigma's microsoft_xdr pipeline; the default"),
    "asim": ("sentinelasim", "ASIM parsers (imProcessCreate, imFileEvent, ...) for endpoint logsources, as pySigma's sentinel_asim pipeline"),
    "azure-monitor": ("azuremonitor", "Log Analytics tables (SecurityEvent) for endpoint logsources, as pySigma's azure_monitor pipeline"),
}
# The name sigma-cli's `-p` gives each pipeline, accepted by `--profile` too.
PYSIGMA_NAMES = {"sentinel": "microsoft_xdr", "asim": "sentinel_asim", "azure-monitor": "azure_monitor"}

# SecurityEvent holds every Windows security event: a category read from it needs the event id
# that carries it (pySigma's azure_monitor pipeline adds none, so it over-matches).
SECURITY_EVENT_IDS = {
    "process_creation": {"EventID": 4688},
    "network_connection": {"EventID": 5156},
    "registry_add": {"EventID": 4657},
    "registry_delete": {"EventID": 4657},
    "registry_event": {"EventID": 4657},
    "registry_set": {"EventID": 4657},
    "file_access": {"EventID": 4663},
    "file_change": {"EventID": 4663},
    "file_delete": {"EventID": 4663},
    "file_event": {"EventID": 4663},
    "file_rename": {"EventID": 4663},
}

# Categories SecurityEvent holds only in an audit event written for more than their activity,
# and only on objects whose SACL audits it (Microsoft's event references): 4663 "An attempt was
# made to access an object" for any audited access (reads, writes, deletions), not a file's
# creation, change or rename; 4657 "A registry value was modified" only for value changes, with
# the key as `\REGISTRY\MACHINE\...`; 5156 "The Windows Filtering Platform has permitted a
# connection", with the application as a device path. Their rules are approximate.
AUDIT_ONLY = {
    "file_change": "event 4663, written for any access a SACL audits, not only this category's activity",
    "file_delete": "event 4663, written for any access a SACL audits, not only a deletion",
    "file_event": "event 4663, written for any access a SACL audits, not only a file's creation",
    "file_rename": "event 4663, written for any access a SACL audits, not only a rename",
    "registry_add": "event 4657, a value change on a key whose SACL audits it, not a key's creation",
    "registry_delete": "event 4657, a value change on a key whose SACL audits it",
    "registry_event": "event 4657, a value change on a key whose SACL audits it, with the key written \\REGISTRY\\MACHINE\\...",
    "registry_set": "event 4657, a value change on a key whose SACL audits it, with the key written \\REGISTRY\\MACHINE\\...",
    "network_connection": "event 5156, a connection the Windows Filtering Platform permitted, with the application as a device path",
}

# Sigma category → the Defender XDR `ActionType`s of its events, where the category's table
# holds others too (Microsoft's schema reference of each table, "ActionType", and the values
# Microsoft's published hunting queries in ../shared/corpus/sentinel compare it with). Sysmon's
# FileCreate (event 11) is also written when a file is overwritten, which Defender reports as
# FileModified. Sysmon's network connection (event 3) is a connection made or accepted, not a
# listening socket (ListeningConnectionCreated) nor one found by a scan (ConnectionFound).
OUTBOUND = ["ConnectionSuccess", "ConnectionAttempt", "ConnectionFailed", "ConnectionRequest"]
INBOUND = ["InboundConnectionAccepted"]
ACTION_TYPES = {
    "file_event": ["FileCreated", "FileModified"],
    "file_delete": ["FileDeleted"],
    "file_rename": ["FileRenamed"],
    "registry_add": ["RegistryKeyCreated"],
    "registry_set": ["RegistryValueSet"],
    "registry_delete": ["RegistryKeyDeleted", "RegistryValueDeleted"],
    "network_connection": OUTBOUND + INBOUND,
}

# Sigma category → ASIM's `EventType` of its events in the ASIM table it shares with others
# (Microsoft's Sysmon parsers, github.com/Azure/Azure-Sentinel Parsers/ASim*/Parsers/
# vim*MicrosoftSysmon.yaml: event 11 FileCreated, 23/26 FileDeleted, 12-14 RegistryKeyCreated,
# RegistryKeyDeleted, RegistryValueDeleted, RegistryValueSet, RegistryKeyRenamed, event 3
# EndpointNetworkSession; the ASIM file schema's FileModified and FileRenamed for other sensors):
# a file or registry event is named as Defender names its action. imNetworkSession also holds
# firewall and flow sessions, which are not Sigma's network_connection.
ASIM_EVENT_TYPES = {**ACTION_TYPES, "network_connection": ["EndpointNetworkSession"]}

# How Defender XDR writes a registry hive at the start of `RegistryKey` → how Sysmon writes it
# in `TargetObject`. Defender spells hives out (`HKEY_LOCAL_MACHINE\SOFTWARE\...`, Microsoft's
# DeviceRegistryEvents reference) and writes a user's hive as `HKEY_CURRENT_USER\<SID>\...`
# (Microsoft's "Baseline Comparison" hunting query rewrites `HKEY_CURRENT_USER\S-...\`), which
# Sysmon writes `HKU\<SID>\...`; Sysmon abbreviates HKLM, HKU and HKCR.
HIVES = [["HKEY_LOCAL_MACHINE", "HKLM"], ["HKEY_USERS", "HKU"], ["HKEY_CURRENT_USER", "HKU"], ["HKEY_CLASSES_ROOT", "HKCR"]]

# The key's unnamed (default) value: Sysmon prints its name as `(Default)` in the path of a value
# event (Sysmon's EID 13/12 `TargetObject`), the registry API and Defender name it "" (as a key
# event has no value name), so the rows of value events with an empty name are that value.
UNNAMED_VALUE = {"name": "(Default)", "column": "ActionType", "values": ["RegistryValueSet", "RegistryValueDeleted"]}


def account(prefix):
    """Sysmon's `User` (`DOMAIN\\name`) from a Defender table's domain and name columns."""
    return {"account": {"domain": f"{prefix}AccountDomain", "name": f"{prefix}AccountName"}}


def security_account(role):
    """An account of a Windows security event (`Subject`, `Target`) as Sysmon writes one
    (`DOMAIN\\name`). The security log names the local system account (S-1-5-18) by the
    computer's account: Microsoft's sample of event 4688 has SubjectUserSid S-1-5-18 with
    SubjectUserName `WIN-GG82ULGC9GO$`, where Sysmon writes `NT AUTHORITY\\SYSTEM`
    (learn.microsoft.com/windows/security/threat-protection/auditing/event-4688)."""
    system = {"sid": f"{role}UserSid", "as": "NT AUTHORITY\\SYSTEM"}
    return {"domain": f"{role}DomainName", "name": f"{role}UserName", "system": system}


# Sigma fields the Defender XDR (and ASIM) tables hold in another shape (src/emit/kql/transform.rs):
# Sysmon's `Hashes` (`SHA1=..,MD5=..,SHA256=..,IMPHASH=..`) is one column per algorithm (no
# IMPHASH); `TargetObject` is a key and a value name; `Details` of a number (`DWORD (0x00000001)`)
# is the number in decimal in RegistryValueData, its type in RegistryValueType ("Dword"); `User` a domain and a name; `Initiated`
# (Sysmon's direction of a connection) the ActionTypes above.
# The initiating process's parent is known by its file name only (InitiatingProcessParentFileName),
# so a path test of `ParentImage` (or, in process events, `GrandParentImage`) is on that name.
HASHES = {"pairs": {"SHA1": "SHA1", "MD5": "MD5", "SHA256": "SHA256"}}
PARENT_NAME = {"base_name": "InitiatingProcessParentFileName"}
# Sysmon's `EventType` of a registry event (CreateKey, DeleteKey, DeleteValue, SetValue, RenameKey;
# Sysmon events 12-14) is Defender's `ActionType` of the same change (Microsoft's
# DeviceRegistryEvents reference: RegistryKeyCreated, RegistryKeyDeleted, RegistryValueDeleted,
# RegistryValueSet, RegistryKeyRenamed); pySigma maps the name only, so `ActionType =~ "SetValue"`
# never held.
REGISTRY_EVENT_TYPES = {
    "values": {
        "column": "ActionType",
        "values": {
            "createkey": ["RegistryKeyCreated"],
            "deletekey": ["RegistryKeyDeleted"],
            "deletevalue": ["RegistryValueDeleted"],
            "setvalue": ["RegistryValueSet"],
            "renamekey": ["RegistryKeyRenamed"],
        },
    }
}


def endpoint(inbound, outbound):
    """Sysmon names a connection's ends by who opened it (source: the initiator, destination: the
    other end; `Initiated`), Defender by where the sensor is (Local*, Remote*; Microsoft's
    DeviceNetworkEvents reference). On an accepted inbound connection the destination is this
    device: the field is the `inbound` column there (None: no column holds it), else `outbound`."""
    return {"either": {"column": "ActionType", "values": INBOUND, "then": inbound, "otherwise": outbound}}


# How ASIM's registry parser for Sysmon spells the hives Sysmon abbreviates (HKLM, HKU, HKCR;
# vimRegistryEventMicrosoftSysmon.yaml's `Hives` table), the longest first. It keeps a value
# event's name apart (`RegistryValue`), `(Default)` as Sysmon prints it, and the data as printed.
ASIM_HIVES = [["HKEY_LOCAL_MACHINE\\Classes", "HKCR"], ["HKEY_LOCAL_MACHINE", "HKLM"], ["HKEY_USERS", "HKU"]]

# The events the azure-monitor profile reads from SecurityEvent name the account that acted as
# their subject (4663, 4657: "Subject: ... account that requested access"), which is Sysmon's
# `User` of the acting process.
TRANSFORMS = {
    "SecurityEvent": {"User": {"account": security_account("Subject")}},
    "DeviceProcessEvents": {
        "Hashes": HASHES,
        "User": account(""),
        "ParentUser": account("InitiatingProcess"),
        "GrandParentImage": PARENT_NAME,
    },
    "DeviceImageLoadEvents": {"Hashes": HASHES, "User": account("InitiatingProcess"), "ParentImage": PARENT_NAME},
    "DeviceFileEvents": {"Hashes": HASHES, "User": account("Request"), "ParentImage": PARENT_NAME},
    "DeviceNetworkEvents": {
        "ParentImage": PARENT_NAME,
        "User": account("InitiatingProcess"),
        "Initiated": {"values": {"column": "ActionType", "values": {"true": OUTBOUND, "false": INBOUND}}},
        "SourceIp": endpoint("RemoteIP", "LocalIP"),
        "SourcePort": endpoint("RemotePort", "LocalPort"),
        "DestinationIp": endpoint("LocalIP", "RemoteIP"),
        "DestinationPort": endpoint("LocalPort", "RemotePort"),
        # A host name is this device's (DeviceName) or the other end's as DNS names it
        # (RemoteUrl); the name of an inbound connection's peer has no column.
        "DestinationHostname": endpoint(None, "RemoteUrl"),
        "SourceHostname": endpoint(None, "DeviceName"),
    },
    # ASIM's process and file events have a column per algorithm, IMPHASH included.
    "imProcessCreate": {"Hashes": {"pairs": {k: f"TargetProcess{k}" for k in ["SHA1", "MD5", "SHA256", "IMPHASH"]}}},
    "imFileEvent": {"Hashes": {"pairs": {k: f"TargetFile{k}" for k in ["SHA1", "MD5", "SHA256"]}}},
    "imRegistry": {
        "TargetObject": {"registry_path": {"key": "RegistryKey", "value_name": "RegistryValue", "hives": ASIM_HIVES}},
        "EventType": {"values": {"column": "EventType", "values": REGISTRY_EVENT_TYPES["values"]["values"]}},
    },
    # Sysmon's `Initiated` is the parser's NetworkDirection (Outbound when the process opened the
    # connection, else Inbound); `SourceIsIpv6`/`DestinationIsIpv6` its NetworkProtocolVersion.
    "imNetworkSession": {
        "Initiated": {"values": {"column": "NetworkDirection", "values": {"true": ["Outbound"], "false": ["Inbound"]}}},
        "SourceIsIpv6": {"values": {"column": "NetworkProtocolVersion", "values": {"true": ["IPv6"], "false": ["IPv4"]}}},
        "DestinationIsIpv6": {"values": {"column": "NetworkProtocolVersion", "values": {"true": ["IPv6"], "false": ["IPv4"]}}},
    },
    "DeviceRegistryEvents": {
        "ParentImage": PARENT_NAME,
        "User": account("InitiatingProcess"),
        "TargetObject": {"registry_path": {"key": "RegistryKey", "value_name": "RegistryValueName", "hives": HIVES, "unnamed_value": UNNAMED_VALUE}},
        "Details": {"registry_data": {"data": "RegistryValueData", "value_type": "RegistryValueType"}},
        "EventType": REGISTRY_EVENT_TYPES,
    },
}

# Fields mapped otherwise for one logsource than on the rest of its table: (table, category) →
# fields. Event 4688 (process creation) names two accounts: the creator subject, which asked
# for the process, and the target subject, the new process's account, written only "when the
# creator and target do not share the same logon" (Microsoft's event 4688 reference, "Target
# Subject"); otherwise its fields are the null SID, `-`, `-`, 0x0. Sysmon's `User` is the new
# process's account: the target, else the creator, whose logon it shares. `ParentUser` is the
# creator's. Its `LogonId` is likewise the target's logon, or the creator's where the target's is
# the null logon 0x0. Its `IntegrityLevel` is the event's MandatoryLabel, the level's SID
# (Microsoft's "Mandatory Integrity Control" well-known SIDs: S-1-16-4096 Low, S-1-16-8192
# Medium, S-1-16-12288 High, S-1-16-16384 System); SigmaHQ's rules also list the SIDs themselves.
INTEGRITY_SIDS = {"untrusted": "S-1-16-0", "low": "S-1-16-4096", "medium": "S-1-16-8192", "high": "S-1-16-12288", "system": "S-1-16-16384"}
ENTRY_FIELDS = {
    ("SecurityEvent", "process_creation"): {
        "User": {"account": {**security_account("Target"), "otherwise": security_account("Subject")}},
        "ParentUser": {"account": security_account("Subject")},
        "LogonId": {"either": {"column": "TargetLogonId", "values": ["0x0", "", "-"], "then": "SubjectLogonId", "otherwise": "TargetLogonId"}},
        "IntegrityLevel": {
            "values": {
                "column": "MandatoryLabel",
                "values": {**{name: [sid] for name, sid in INTEGRITY_SIDS.items()}, **{sid.lower(): [sid] for sid in INTEGRITY_SIDS.values()}},
            }
        },
    },
}

# Fields pySigma maps to a column that holds something else: left unmapped, so the rule says the
# table has no column for them (`unknown-field`) instead of testing the wrong value.
# - Sysmon's image load (event 7) describes the loaded file (its version information, company,
#   description); DeviceImageLoadEvents has the version information of the loading process only
#   (InitiatingProcessVersionInfo*, Microsoft's table reference).
# - Sysmon's `FileVersion` is the file's version; Defender's ProcessVersionInfoProductVersion and
#   InitiatingProcessVersionInfoProductVersion are the product's ("Product version from the
#   version information"), and the tables have no file version.
# - SecurityEvent's `FileHash` is filled by AppLocker's events; the events the azure-monitor
#   profile reads (4688 process creation, 4657 registry, 4663 file access, 5156 connection) carry
#   no hash (Microsoft's event documentation lists their fields).
# - ASIM's file events have no parent of the acting process (Sysmon's file events none either);
#   its network sessions' `SrcAppName`/`DstAppName` are the process (the Sysmon parser), not
#   Sysmon's port names.
NOT_HELD = {
    "DeviceImageLoadEvents": ["Company", "Description", "FileVersion", "OriginalFileName", "Product"],
    "DeviceProcessEvents": ["FileVersion"],
    "SecurityEvent": ["Hashes"],
    "imFileEvent": ["ParentImage"],
    "imNetworkSession": ["SourcePortName", "DestinationPortName"],
}

# Sigma fields pySigma's pipelines leave unmapped that a Defender XDR column holds. file_rename's
# SourceFilename (the file's path before the rename) is PreviousFolderPath, as pySigma maps its
# TargetFilename to FolderPath: Microsoft's DeviceFileEvents reference describes the two alike
# ("FolderPath: Folder containing the file that the recorded action was applied to";
# "PreviousFolderPath: Original folder containing the file before the recorded action was applied").
#
# pySigma's sentinel_asim pipeline maps some fields to the wrong column; Microsoft's Sysmon
# parsers (above) put them here, as the ASIM schema references describe the columns:
# - file events: `TargetFilename` (the whole path) is TargetFilePath (TargetFileName is its last
#   part); `Image`, the process that wrote the file, is ActingProcessName (not the file);
#   file_rename's `SourceFilename` is SrcFilePath.
# - process creation: the parent is the acting process (ActingProcessName, -Id, -Guid);
#   ParentProcess* is the acting process's own parent. Defender's
#   `ProcessVersionInfoOriginalFileName` is the original file name (not the file version).
COLUMNS = {
    "DeviceFileEvents": {"SourceFilename": "PreviousFolderPath"},
    "imFileEvent": {"TargetFilename": "TargetFilePath", "Image": "ActingProcessName", "SourceFilename": "SrcFilePath"},
    "imProcessCreate": {
        "ParentImage": "ActingProcessName",
        "ParentProcessId": "ActingProcessId",
        "ParentProcessGuid": "ActingProcessGuid",
        "ProcessVersionInfoOriginalFileName": ["TargetProcessFileOriginalName", "TargetProcessFilename"],
    },
}

# Windows event logs whose Sigma fields are their events' EventData names: on these tables a
# field that is not a column is read from the `<Data Name="X">` elements of `EventData` (as
# Microsoft's own rules read it; sentinel-table-schemas.json: "EventData" is a string).
EVENT_DATA_TABLES = ["Event", "SecurityEvent"]

# Logsources pySigma's kusto pipelines do not map, in every profile: (logsource, table,
# equals, fields). Columns are checked against the table schemas where the file has them.
CLOUD = [
    ({"product": "windows", "service": "security"}, "SecurityEvent", None, {}),
    ({"product": "windows", "service": "system"}, "Event", {"EventLog": "System"}, {"Provider_Name": "Source"}),
    ({"product": "windows", "service": "application"}, "Event", {"EventLog": "Application"}, {"Provider_Name": "Source"}),
    (
        {"product": "azure", "service": "signinlogs"},
        "SigninLogs",
        None,
        {
            "userAgent": "UserAgent",
            "Resultdescription": "ResultDescription",
            "conditionalAccessStatus": "ConditionalAccessStatus",
            "ClientApp": "ClientAppUsed",
            "Username": "UserPrincipalName",
            "DeviceDetail.trusttype": "DeviceDetail.trustType",
            "DeviceDetail.deviceId": "DeviceDetail.deviceId",
            "DeviceDetail.isCompliant": "DeviceDetail.isCompliant",
        },
    ),
    (
        {"product": "azure", "service": "auditlogs"},
        "AuditLogs",
        None,
        {
            "operationName": "OperationName",
            "category": "Category",
            # Sigma's `properties.message` is the activity's display name ("Add member to role").
            "properties.message": "ActivityDisplayName",
            "Status": "Result",
            "Initiatedby": "InitiatedBy",
            "TargetResources.ModifiedProperties.DisplayName": "TargetResources.modifiedProperties.displayName",
            "TargetResources.ModifiedProperties.NewValue": "TargetResources.modifiedProperties.newValue",
            "TargetResources.modifiedProperties.newValue": "TargetResources.modifiedProperties.newValue",
            "targetResources.type": "TargetResources.type",
        },
    ),
    (
        {"product": "azure", "service": "activitylogs"},
        "AzureActivity",
        None,
        {"operationName": "OperationNameValue", "properties.message": "Properties_d.message"},
    ),
    ({"product": "azure", "service": "riskdetection"}, "AADUserRiskEvents", None, {"riskEventType": "RiskEventType"}),
    (
        {"product": "m365"},
        "OfficeActivity",
        None,
        {"eventSource": "OfficeWorkload", "Workload": "OfficeWorkload", "eventName": "Operation", "status": "ResultStatus"},
    ),
    (
        {"product": "aws", "service": "cloudtrail"},
        "AWSCloudTrail",
        None,
        {
            "eventSource": "EventSource",
            "eventName": "EventName",
            "eventType": "EventTypeName",
            "errorCode": "ErrorCode",
            "errorMessage": "ErrorMessage",
            "userAgent": "UserAgent",
            "sourceIPAddress": "SourceIpAddress",
            "userIdentity.type": "UserIdentityType",
            "userIdentity.arn": "UserIdentityArn",
            "userIdentity.sessionContext.sessionIssuer.type": "SessionIssuerType",
            "requestParameters": "RequestParameters",
            "responseElements": "ResponseElements",
            "additionalEventData": "AdditionalEventData",
        },
    ),
    (
        {"product": "gcp", "service": "gcp.audit"},
        "GCPAuditLogs",
        None,
        {
            "gcp.audit.method_name": "MethodName",
            "data.protoPayload.methodName": "MethodName",
            "data.protoPayload.serviceName": "ServiceName",
            "data.protoPayload.authorizationInfo": "AuthorizationInfo",
        },
    ),
    (
        {"product": "okta", "service": "okta"},
        "Okta_CL",
        None,
        {
            "eventType": "eventType_s",
            "legacyEventType": "legacyEventType_s",
            "displayMessage": "displayMessage_s",
            "outcome.reason": "outcome_reason_s",
            "outcome.result": "outcome_result_s",
            "actor.alternateId": "actor_alternateId_s",
            "target.displayName": "target_displayName_s",
            "securityContext.isProxy": "securityContext_isProxy_b",
            "debugContext.debugData.requestUri": "debugContext_debugData_requestUri_s",
            "debugContext.debugData.behaviors": "debugContext_debugData_behaviors_s",
            "debugContext.debugData.logOnlySecurityData": "debugContext_debugData_logOnlySecurityData_s",
        },
    ),
    ({"product": "github", "service": "audit"}, "GitHubAudit", None, {"action": "Action"}),
    ({"product": "onelogin", "service": "onelogin.events"}, "OneLogin_CL", None, {"event_type_id": "event_type_id_d"}),
]


def check_columns(table, fields):
    """Every mapped column (the head of a dotted path) is a column of the table, where its schema
    is complete (Microsoft's own tables; the custom `_CL` tables list only some columns)."""
    schema = SCHEMAS.get(table)
    if not schema or schema.get("source") == "CustomTables":
        return
    columns = {c[0] for c in schema["columns"]}
    for field, column in fields.items():
        if column.split(".")[0] not in columns:
            sys.exit(f"{table}: {field} → {column} is not a column")


def profile(pipeline):
    data = MAPPINGS[pipeline]
    mappings = data["field_mappings"]
    logsources = []
    for category, table in sorted(data["category_to_table"].items()):
        equals = SECURITY_EVENT_IDS.get(category) if table == "SecurityEvent" else None
        if table.startswith("Device") and category in ACTION_TYPES:
            equals = {"ActionType": ACTION_TYPES[category]}
        if table.startswith("im") and category in ASIM_EVENT_TYPES:
            equals = {"EventType": ASIM_EVENT_TYPES[category]}
        logsources.append(({"category": category}, table, equals, ENTRY_FIELDS.get((table, category))))
    tables = {}
    for table in sorted({t for _, t, _, _ in logsources}):
        check_columns(table, COLUMNS.get(table, {}))
        fields = {
            **mappings["generic_mappings"],
            **mappings["table_mappings"].get(table, {}),
            **COLUMNS.get(table, {}),
            **TRANSFORMS.get(table, {}),
        }
        tables[table] = {k: v for k, v in fields.items() if k not in NOT_HELD.get(table, [])}
    for logsource, table, equals, fields in CLOUD:
        check_columns(table, fields)
        logsources.append((logsource, table, equals, None))
        # pySigma's own map of the table (azure_monitor's SigninLogs), then ours.
        pysigma = MAPPINGS["azuremonitor"]["field_mappings"]["table_mappings"].get(table, {}) if table == "SigninLogs" else {}
        tables[table] = {**tables.get(table, {}), **pysigma, **fields}
    return logsources, tables


def time_column(table):
    """The column holding an event's time: Defender XDR tables keep it in `Timestamp` (their
    `TimeGenerated` is when Log Analytics received it), every other table in `TimeGenerated`."""
    columns = {c[0] for c in SCHEMAS.get(table, {}).get("columns", [])}
    return "Timestamp" if "Timestamp" in columns and table.startswith("Device") else "TimeGenerated"


def scalar(value):
    return json.dumps(value)


def main():
    out = [
        "# Sigma logsource → KQL table and Sigma field → column, for `--to kql` (`--profile NAME`).",
        "# Generated by scripts/derive_kql_profile.py from pySigma-backend-kusto's pipelines",
        "# (../shared/design/reference/pysigma-kusto-mappings.json: category → table, field maps)",
        "# plus cloud and Windows service logsources those pipelines do not map (listed in the",
        "# script, columns checked against sentinel-table-schemas.json). Do not edit by hand.",
        "#",
        "# A logsource entry matches a rule whose logsource has every key it lists; the entry with",
        "# the most keys wins. `equals`: the value each column must have for a row of the table",
        "# to be that logsource's event (or one of them, a list). Fields: Sigma field → column, a",
        "# dotted path into a dynamic column, or a transform (src/emit/kql/transform.rs) where the",
        "# table holds it in another shape; a field absent here keeps its Sigma name. `event_data`:",
        "# the XML column whose `<Data Name>` elements are the fields that are not columns of the",
        "# table (targets/kql-schemas.tsv). An entry's own `fields` come before its table's.",
        "# `approximate`: why the table's rows are only nearly the logsource's events (a loss on each rule).",
        "# `time_columns`: the column",
        "# holding each table's event time (what a Sigma correlation's timespan bins), where it is",
        "# not `TimeGenerated`.",
        f"default: {scalar('sentinel')}",
    ]
    derived = {name: profile(pipeline) for name, (pipeline, _) in PIPELINES.items()}
    tables = sorted({table for logsources, _ in derived.values() for _, table, _, _ in logsources})
    out.append("time_columns:")
    out += [f"  {scalar(t)}: {scalar(time_column(t))}" for t in tables if time_column(t) != "TimeGenerated"]
    out.append("profiles:")
    for name, (pipeline, about) in PIPELINES.items():
        logsources, tables = derived[name]
        out += [f"  {name}:", f"    about: {scalar(about)}", f"    pysigma_pipeline: {PYSIGMA_NAMES[name]}", "    logsources:"]
        for logsource, table, equals, fields in logsources:
            keys = list(logsource.items()) + [("table", table)] + ([("equals", equals)] if equals else [])
            if table in EVENT_DATA_TABLES and logsource.get("product") == "windows":
                keys.append(("event_data", "EventData"))
            if fields:
                keys.append(("fields", dict(sorted(fields.items()))))
            if table == "SecurityEvent" and logsource.get("category") in AUDIT_ONLY:
                keys.append(("approximate", AUDIT_ONLY[logsource["category"]]))
            out.append("      - " + "\n        ".join(f"{k}: {scalar(v)}" for k, v in keys))
        out.append("    fields:")
        for table, fields in tables.items():
            if not fields:
                continue
            out.append(f"      {scalar(table)}:")
            out += [f"        {scalar(k)}: {scalar(v)}" for k, v in sorted(fields.items())]
    print("\n".join(out))


if __name__ == "__main__":
    main()
