#!/usr/bin/python3
"""check_layers.py ROOT: every include of every file in ROOT/src and
ROOT/include against the layer map in ROOT/docs/design.md, every
function's length, and no circle of files within a folder.

The map is the table under "## Layers of the code": a row per layer, the
layers it may include. A file in src/LAYER/ or include/forgetlab/LAYER/
may include "forgetlab/L/x.h" only for an L its row allows, and a private
header ("x.h") only from its own folder. A folder that the table does not
name fails, so a new layer comes with its row. A function of src/ longer
than MAX_LINES lines fails. Within a folder of src/, the files that call
each other's functions must not form a circle (a uses b uses a): one of
them does two jobs, or a third file should hold what both use.

Prints one line per violation and exits 1 when there is any."""
import glob
import os
import re
import sys

MAX_LINES = 80
# Functions allowed past MAX_LINES, as (file, name): none. A function that
# grows past it is split along what its parts do.
LONG = set()


def layer_map(root):
    """{layer: set of layers it may include} from docs/design.md's table."""
    text = open(os.path.join(root, "docs/design.md")).read()
    sec = text.split("## Layers of the code", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in sec.splitlines():
        cells = [c.strip(" `") for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 3 and cells[0] not in ("layer", "") and set(cells[0]) != {"-"}:
            rows[cells[0]] = {x.strip(" `") for x in cells[2].split(",") if x.strip(" `")}
    return rows


def files(root):
    """(path relative to root, its layer) of every C file and header."""
    for base, strip in (("src", 1), ("include/forgetlab", 2)):
        top = os.path.join(root, base)
        for d, _, names in os.walk(top):
            for n in sorted(names):
                if n.endswith((".c", ".h")):
                    rel = os.path.relpath(os.path.join(d, n), root)
                    parts = rel.split(os.sep)
                    yield rel, parts[strip] if len(parts) > strip + 1 else None


def functions(text):
    """(name, lines) of each function defined at the top level: a line at
    column 0 that opens a signature, up to the "{" that ends it (a signature
    may span lines), to the "}" at column 0 that closes the body."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if re.match(r"[A-Za-z_]", line) and not line.rstrip().endswith(";") and \
                not re.match(r"(typedef|struct|enum|union)\b", line):
            j = i
            while j < len(lines) and not lines[j].rstrip().endswith(("{", ";")):
                j += 1
            head = " ".join(lines[i:j + 1])
            if j < len(lines) and lines[j].rstrip().endswith("{") and "(" in head and \
                    "=" not in head.split("(")[0]:
                k = j + 1
                while k < len(lines) and lines[k] != "}":
                    k += 1
                yield re.findall(r"(\w+)\s*\(", head)[0], k - i + 1
                i = k
        i += 1


def file_cycles(root):
    """Per folder of src/, the circles of files (strongly connected
    components of more than one file) of the graph a -> b when a names a
    function or array that b defines."""
    out = []
    for folder in sorted(glob.glob(os.path.join(root, "src", "*"))):
        files = sorted(glob.glob(os.path.join(folder, "*.c")))
        defs, texts = {}, {}
        for f in files:
            t = re.sub(r"/\*.*?\*/", "", open(f).read(), flags=re.S)
            t = re.sub(r'"(\\.|[^"\\])*"', '""', t)
            texts[f] = t
            for m in re.finditer(r"^(?!static)[A-Za-z_][\w \*]*?\b(\w+)\s*\([^;]*?\)\s*\{", t, flags=re.M):
                defs.setdefault(m.group(1), f)
            for m in re.finditer(r"^(?!static|extern)(?:const )?\w[\w \*]*?\b(\w+)\s*\[\]\s*=", t, flags=re.M):
                defs.setdefault(m.group(1), f)
        graph = {f: {defs[n] for n in set(re.findall(r"\b(\w+)\b", t)) if defs.get(n, f) != f}
                 for f, t in texts.items()}
        index, low, stack, on = {}, {}, [], set()

        def visit(v):  # Tarjan's strongly connected components
            index[v] = low[v] = len(index)
            stack.append(v), on.add(v)
            for w in graph[v]:
                if w not in index:
                    visit(w)
                    low[v] = min(low[v], low[w])
                elif w in on:
                    low[v] = min(low[v], index[w])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(os.path.relpath(w, root))
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))

        for v in files:
            if v not in index:
                visit(v)
    return out


def main(root):
    rows = layer_map(root)
    bad = []
    if not rows:
        bad.append("docs/design.md: no layer table under '## Layers of the code'")
    for rel, layer in files(root):
        if layer is None or layer not in rows:
            bad.append(f"{rel}: in folder '{layer}', which the layer table of docs/design.md does not name")
            continue
        text = open(os.path.join(root, rel)).read()
        for no, line in enumerate(text.split("\n"), 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if not m:
                continue
            inc = m.group(1)
            f = re.match(r"forgetlab/(\w+)/[\w.]+\.h$", inc)
            if f:
                if f.group(1) not in rows.get(layer, ()):
                    bad.append(f"{rel}:{no}: {layer} includes {inc} (layer {f.group(1)}), which it may not")
                elif not os.path.exists(os.path.join(root, "include", inc)):
                    bad.append(f"{rel}:{no}: {inc} does not exist")
            elif inc.startswith("forgetlab/"):
                bad.append(f"{rel}:{no}: {inc} names no layer")
            elif "/" in inc or not os.path.exists(os.path.join(root, os.path.dirname(rel), inc)):
                bad.append(f"{rel}:{no}: the private header {inc} is not in its own folder")
        if rel.startswith("src/") and rel.endswith(".c"):
            for name, n in functions(text):
                if n > MAX_LINES and (rel, name) not in LONG:
                    bad.append(f"{rel}: {name} is {n} lines long (at most {MAX_LINES})")
    for c in file_cycles(root):
        bad.append("a circle of files: " + " <-> ".join(c))
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
