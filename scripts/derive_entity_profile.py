#!/usr/bin/env python3
"""Derives targets/entities.yaml: which columns of each Sentinel table identify an Account,
Host, IP, Process or File, for the entity mappings of the Sentinel rules written for Sigma
input.

Facts used: the entity types and their valid identifiers
(../shared/design/reference/sentinel-entity-identifiers.json), the tables' columns
(../shared/design/reference/sentinel-table-schemas.json), and how the Sentinel corpus
(../shared/corpus/sentinel) maps columns: a rule's mapping of column C to (type, identifier)
counts for every table its query names that has a column C, and for the name C (C being the
column a mapped name renames, when the query only renames one). Each column of
a table takes the pairing most rules on that table give it, else the one most rules give its
name; only identifiers that identify the entity alone (a `requiredOneOf` set of one), a
ProcessId only from a number column, and no `_` system column.

    python3 scripts/derive_entity_profile.py [SHARED_DIR] > targets/entities.yaml
"""

import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import yaml

SHARED = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "../shared")
IDENTIFIERS = json.loads((SHARED / "design/reference/sentinel-entity-identifiers.json").read_text())
SCHEMAS = json.loads((SHARED / "design/reference/sentinel-table-schemas.json").read_text())
CORPUS = SHARED / "corpus/sentinel"
TYPES = {table: dict(schema["columns"]) for table, schema in SCHEMAS.items()}
COLUMNS = {table: list(types) for table, types in TYPES.items()}

# The entity types the profile covers, in the order their mappings are written.
ENTITIES = ["Account", "Host", "IP", "Process", "File"]
# A pairing seen in fewer rules is an accident, not a habit.
MIN_RULES = 1
# Identifiers that hold a number: a column of another type cannot be one (corpus rules map
# process file names as `ProcessId`, which Sentinel cannot resolve to a process).
NUMERIC = {("Process", "ProcessId")}
NUMBER_TYPES = {"int", "long"}


def rules():
    for path in sorted(CORPUS.rglob("*")):
        if path.suffix not in (".yaml", ".yml"):
            continue
        try:
            documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8-sig")))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        for rule in documents:
            if isinstance(rule, dict) and isinstance(rule.get("query"), str):
                yield rule


def renamed(query, column):
    """The column a mapped name stands for when the query only renames it (`extend
    AccountCustomEntity = AccountName`, as many corpus rules do), else the name itself."""
    if not isinstance(column, str):
        return column
    plain = re.search(rf"\b{re.escape(column)}\s*=\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:,|\||$)", query, re.MULTILINE)
    return plain.group(1) if plain else column


def votes():
    """Votes of the rules, one per rule: (table, column) -> Counter of (entity type,
    identifier) for the tables its query names, and column -> Counter over every rule."""
    by_table, by_name = defaultdict(Counter), defaultdict(Counter)
    for rule in rules():
        words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", rule["query"]))
        tables = [t for t in SCHEMAS if t in words]
        seen = set()
        for mapping in rule.get("entityMappings") or []:
            entity = mapping.get("entityType") if isinstance(mapping, dict) else None
            if entity not in ENTITIES:
                continue
            for field in mapping.get("fieldMappings") or []:
                identifier, column = field.get("identifier"), renamed(rule["query"], field.get("columnName"))
                if identifier not in IDENTIFIERS[entity]["identifiers"] or (column, entity, identifier) in seen:
                    continue
                seen.add((column, entity, identifier))
                by_name[column][(entity, identifier)] += 1
                for table in tables:
                    if column in COLUMNS[table]:
                        by_table[(table, column)][(entity, identifier)] += 1
    return by_table, by_name


def alone_enough(pairing):
    """Whether the identifier alone identifies the entity (Sentinel requires one of the
    `requiredOneOf` sets): each mapping written has one column."""
    entity, identifier = pairing
    return [identifier] in IDENTIFIERS[entity]["requiredOneOf"]


def winner(counter, fits):
    """The fitting pairing most rules give, when MIN_RULES or more do (ties: by name, for
    determinism)."""
    candidates = [item for item in (counter or {}).items() if fits(item[0])]
    if not candidates:
        return None
    pairing, count = max(candidates, key=lambda item: (item[1], item[0]))
    return (pairing, count) if count >= MIN_RULES else None


def main():
    by_table, by_name = votes()
    profile = defaultdict(list)
    for table, columns in COLUMNS.items():
        for column in columns:
            # What rules on this table say of the column, else what rules say of its name.
            # Columns starting with `_` (`_ResourceId`) describe the record, not the event.
            if column.startswith("_"):
                continue
            fits = lambda pairing: alone_enough(pairing) and (pairing not in NUMERIC or TYPES[table][column] in NUMBER_TYPES)
            chosen = winner(by_table.get((table, column)), fits) or winner(by_name.get(column), fits)
            if chosen:
                (entity, identifier), count = chosen
                profile[table].append((ENTITIES.index(entity), -count, column, entity, identifier))
    print("# Sentinel table -> the columns that identify an entity, for the entity mappings of the")
    print("# Sentinel rules written for Sigma input. Generated by scripts/derive_entity_profile.py from")
    print("# ../shared/design/reference/sentinel-entity-identifiers.json (valid identifiers),")
    print("# sentinel-table-schemas.json (columns) and the Sentinel corpus's entity mappings: each column")
    print("# takes the entity type and identifier most corpus rules on that table give it, else most rules")
    print("# give a column of that name; only identifiers that alone identify the entity, never a `_`")
    print("# system column, nor a ProcessId that is no number.")
    print("# Do not edit by hand. Per table: entity types in the order Account, Host, IP, Process, File;")
    print("# within one, the column most rules map first.")
    print("tables:")
    for table in sorted(profile):
        print(f"  {table}:")
        for _, _, column, entity, identifier in sorted(profile[table]):
            print(f"    - {{column: {column}, entity: {entity}, identifier: {identifier}}}")


if __name__ == "__main__":
    main()
