#!/usr/bin/env python3
"""Derives targets/sigmahq-fields.json: SigmaHQ's field list per logsource, for `ruleconv check`.

Source (relative to the shared folder, ../shared by default): tools/sigma-fields/logsource.json,
SigmaHQ/sigma's tests/logsource.json ("Field name by logsource"), the list SigmaHQ's CI
(tests/test_logsource.py) holds its rules to. Each list is written as that test applies it: a
logsource's own fields, plus the add-on fields SigmaHQ lists for other sensors of it, plus the
product's common fields. A logsource whose list is empty is left out: SigmaHQ judges no field
there, and neither does `check`.

Layout: products (`""` for a rule without `product`) -> `category` and `service` name -> fields,
and `none` for a rule with neither category nor service.

Usage: scripts/derive_sigmahq_fields.py [SHARED_DIR] > targets/sigmahq-fields.json
"""
import json
import os
import sys


def derive(shared):
    taxonomy = json.load(open(os.path.join(shared, "tools/sigma-fields/logsource.json"), encoding="utf-8"))
    products = {}
    for product, table in sorted(taxonomy["legit"].items()):
        addon = taxonomy["addon"].get(product, {})
        common = set(table.get("common", []))
        out = {}
        for kind in ("category", "service"):
            lists = {}
            for name, fields in sorted(table.get(kind, {}).items()):
                listed = set(fields) | set(addon.get(kind, {}).get(name, []))
                if listed:
                    lists[name] = sorted(listed | common)
            out[kind] = lists
        if table.get("empty"):
            out["none"] = sorted(set(table["empty"]) | common)
        products["" if product == "empty" else product] = out
    origin = (
        f"Derived by scripts/derive_sigmahq_fields.py from SigmaHQ/sigma tests/logsource.json "
        f"({taxonomy['title']}, version {taxonomy['version']}), as SigmaHQ's CI applies it."
    )
    return {"origin": origin, "version": taxonomy["version"], "products": products}


def main():
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "shared")
    data = derive(shared)
    lines = ["{", f'  "origin": {json.dumps(data["origin"])},', f'  "version": {json.dumps(data["version"])},', '  "products": {']
    products = list(data["products"].items())
    for p, (product, table) in enumerate(products):
        lines.append(f"    {json.dumps(product)}: {{")
        parts = []
        for kind in ("category", "service"):
            rows = [f"        {json.dumps(name)}: {json.dumps(fields)}" for name, fields in table[kind].items()]
            parts.append(f'      "{kind}": {{' + ("\n" + ",\n".join(rows) + "\n      }" if rows else "}"))
        if "none" in table:
            parts.append(f'      "none": {json.dumps(table["none"])}')
        lines.append(",\n".join(parts))
        lines.append("    }" + ("," if p + 1 < len(products) else ""))
    lines += ["  }", "}"]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
