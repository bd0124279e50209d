"""Copies executed notebooks from OUT over their sources, without per-cell execution timestamps.

    python3 scripts/strip-notebook-timing.py OUT notebooks-ts/a.ipynb [...]
"""
import json
import os
import sys

out, *notebooks = sys.argv[1:]
for path in notebooks:
    with open(os.path.join(out, os.path.basename(path)), encoding="utf-8") as f:
        nb = json.load(f)
    for cell in nb["cells"]:
        cell.get("metadata", {}).pop("execution", None)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(nb, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"refreshed {path}")
