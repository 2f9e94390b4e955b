#!/usr/bin/env python3
"""Fails when a source file includes a header from a layer above its own.

The layers are the numbered rows of README.md's "What is here" table (lowest first); a file
belongs to the deepest listed folder that holds it. Usage: layering.py [SOURCE_DIR]."""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[2])
rows = re.findall(r"^\| (\d+) \| `([^`]+)/` \|", (root / "README.md").read_text(), re.M)
if not rows:
    sys.exit("layering: README.md has no numbered folder table")
layers = {folder: int(n) for n, folder in rows}


def layer_of(path):
    """The layer of a repository path, or None when it is in no layer (tests, bench, third-party)."""
    best = None
    for folder in layers:
        if path.startswith(folder + "/") and (best is None or len(folder) > len(best)):
            best = folder
    return best


bad = []
for folder in layers:
    for f in sorted((root / folder).glob("*")):
        if f.suffix not in (".h", ".cpp"):
            continue
        rel = f.relative_to(root).as_posix()
        own = layer_of(rel)
        for lineno, line in enumerate(f.read_text().splitlines(), 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if not m:
                continue
            inc = layer_of(m.group(1))
            if inc is not None and layers[inc] > layers[own]:
                bad.append(f"{rel}:{lineno}: includes {m.group(1)} (layer {layers[inc]} {inc}/) from layer "
                           f"{layers[own]} {own}/")
print("\n".join(bad) if bad else f"layering: {len(layers)} layers, no include runs upward")
sys.exit(1 if bad else 0)
