#!/usr/bin/env python3
"""Derives targets/udm.yaml, the UDM schema `--to chronicle` checks every path and literal with.

Reads ../shared/design/reference/pysigma-secops-udm.json (key `udm_schema`, which
pySigma-backend-secops scraped from Google's UDM field list,
https://cloud.google.com/chronicle/docs/reference/udm-field-list) and writes, for each message
type, its fields with a normalized type, and each enum's values:

- `string`, `int`, `float`, `bool`: the scalars (`bytes` reads as a string in YARA-L);
- `enum:NAME`: a UDM enum, its values under `enums`;
- `map`: a Struct (`additional.fields`), `labels`: a Label list, both read with `["key"]`;
- `any`: a type the scrape left empty; nothing under it is checked;
- any other word: a message type under `types`.

How the scrape is read (as ../shared/tools/yaral-udm/README.md describes it): the six nouns
have type `noun`; `network`, `noun` and `security_result` have their fields in
`TopLevelFields` and an empty placeholder in `Subtypes`; a leading `@` says nothing about the
type. The scrape lacks the protobuf well-known types; they are added from their definitions
(https://protobuf.dev/reference/protobuf/google.protobuf/: Timestamp and Duration are
`seconds` int64 and `nanos` int32; Struct is a map of `fields`).

    python3 scripts/derive_udm_schema.py [REFERENCE_DIR] > targets/udm.yaml
"""
import json
import sys
from pathlib import Path

NOUNS = ("principal", "target", "src", "observer", "intermediary", "about")
SCALARS = {
    "string": "string", "bytes": "string",
    "bool": "bool", "boolean": "bool",
    "int32": "int", "int64": "int", "uint32": "int", "uint64": "int",
    "float": "float", "double": "float",
}
# Protobuf well-known types, kept by the scrape as bare names (protobuf.dev, google.protobuf).
WELL_KNOWN = {
    "google.protobuf.timestamp": {"seconds": "int", "nanos": "int"},
    "google.protobuf.duration": {"seconds": "int", "nanos": "int"},
    "google.protobuf.struct": {"fields": "map"},
}


def normalized(type_name, types, enums):
    """A field's type string as this file writes it."""
    name = type_name.removeprefix("@").removeprefix("enum:")
    if name.lower() in SCALARS:
        return SCALARS[name.lower()]
    if name in enums:
        return f"enum:{name}"
    if name == "label":
        return "labels"
    if name == "google.protobuf.struct":
        return "map"
    if name in WELL_KNOWN or types.get(name):
        return name
    return "any"


def derive(schema):
    enums = {name: list(values) for name, values in schema["Enums"].items()}
    # Subtypes first: a top-level entry with fields replaces an empty placeholder of that name.
    raw = {}
    for section in ("Subtypes", "TopLevelFields"):
        for name, fields in schema[section].items():
            if fields or name not in raw:
                raw[name] = fields
    raw.update({k: {} for k in WELL_KNOWN})
    types = {name: {f: normalized(t, raw, enums) for f, t in sorted(fields.items())} for name, fields in sorted(raw.items()) if fields}
    types.update(WELL_KNOWN)
    roots = {noun: "noun" for noun in NOUNS}
    roots.update({"metadata": "metadata", "network": "network", "security_result": "security_result",
                  "extensions": "extensions", "additional": "map"})
    return {"roots": roots, "types": dict(sorted(types.items())), "enums": dict(sorted(enums.items()))}


def yaml_scalar(text):
    """A name as YAML: bare when only letters, digits, `_` and `.`, else quoted."""
    return text if text.replace("_", "").replace(".", "").isalnum() else json.dumps(text)


def main():
    reference = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared/design/reference"
    secops = json.loads((reference / "pysigma-secops-udm.json").read_text())
    out = derive(secops["udm_schema"])
    print("# The UDM schema `--to chronicle` checks every path it writes and every literal it compares.")
    print("# Derived by scripts/derive_udm_schema.py from pySigma-backend-secops' scrape of Google's UDM")
    print("# field list (../shared/design/reference/pysigma-secops-udm.json); do not edit by hand.")
    print("# Field types: string int float bool, enum:NAME (values under enums), map (Struct),")
    print("# labels (Label list), any (left empty by the scrape), or a message type under types.")
    print("roots:")
    for name, type_name in out["roots"].items():
        print(f"  {name}: {yaml_scalar(type_name)}")
    print("types:")
    for name, fields in out["types"].items():
        print(f"  {yaml_scalar(name)}:")
        for field, type_name in fields.items():
            print(f"    {field}: {yaml_scalar(type_name)}")
    print("enums:")
    for name, values in out["enums"].items():
        print(f"  {yaml_scalar(name)}: [{', '.join(json.dumps(v) for v in values)}]")


if __name__ == "__main__":
    main()
