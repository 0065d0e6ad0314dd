#!/usr/bin/env python3
"""File-level import cycles per crate (ARCHITECTURE.md: no file imports one that imports it back).

    tools/import-cycles.py [REPO]        # prints each cycle, then "N cycles"

An edge A -> B when file A names `crate::b...` or `super::...` resolving to file B (use lines and
inline paths). Test modules (#[cfg(test)] mod tests blocks and *tests.rs files) are skipped.
Prints the cycles (strongly connected components of more than one file)."""
import os, re, sys
root = sys.argv[1] if len(sys.argv) > 1 else '.'
crates = [d for d in sorted(os.listdir(root)) if os.path.isfile(os.path.join(root, d, 'Cargo.toml')) and os.path.isdir(os.path.join(root, d, 'src'))]
crates.append('.')
def modpath(src, f):
    rel = os.path.relpath(f, src)[:-3].split(os.sep)
    if rel[-1] in ('lib', 'main', 'mod'): rel = rel[:-1]
    return tuple(rel)
total = 0
for c in crates:
    src = os.path.join(root, c, 'src')
    files = {}
    for dp, dn, fn in os.walk(src):
        for n in fn:
            if n.endswith('.rs'):
                f = os.path.join(dp, n); files[modpath(src, f)] = f
    mods = set(files)
    def resolve(path):
        # longest prefix that is a file module
        for k in range(len(path), -1, -1):
            if tuple(path[:k]) in mods: return tuple(path[:k])
        return None
    edges = {m: set() for m in mods}
    for m, f in files.items():
        if os.path.basename(f).endswith('tests.rs') or os.path.basename(f) == 'testutil.rs': continue
        text = open(f).read()
        i = text.find('#[cfg(test)]\nmod tests')
        if i >= 0: text = text[:i]
        is_modfile = os.path.basename(f) in ('mod.rs', 'lib.rs', 'main.rs')
        here = list(m)
        for mm in re.finditer(r'\b(crate|super)((?:::(?:super|[A-Za-z_][A-Za-z0-9_]*))+)', text):
            head, rest = mm.group(1), [p for p in mm.group(2).split('::') if p]
            if head == 'crate': base = []
            else:
                base = here[:-1]
            parts = list(base)
            for p in rest:
                if p == 'super': parts = parts[:-1]
                else: parts.append(p)
            t = resolve(parts)
            if t is not None and t != m and not (len(t) < len(m) and m[:len(t)] == t):
                edges[m].add(t)
        # use lists: `use crate::{a, b::c}` / `use super::{x, y}`
        for mm in re.finditer(r'use (crate|super)::\{([^;]*)\};', text, re.S):
            head = mm.group(1)
            base = [] if head == 'crate' else here[:-1]
            for item in re.split(r',', re.sub(r'\{[^{}]*\}', '', mm.group(2))):
                item = item.strip().split('::')
                if not item or not item[0] or item[0] == 'self': continue
                t = resolve(base + item)
                if t is not None and t != m and not (len(t) < len(m) and m[:len(t)] == t):
                    edges[m].add(t)
    # Tarjan
    index = {}; low = {}; stack = []; on = set(); out = []; n = [0]
    sys.setrecursionlimit(10000)
    def sc(v):
        index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
        for w in edges[v]:
            if w not in index: sc(w); low[v] = min(low[v], low[w])
            elif w in on: low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: out.append(comp)
    for v in sorted(mods):
        if v not in index: sc(v)
    name = 'root' if c == '.' else c
    for comp in out:
        total += 1
        print(f'{name}: cycle among', ', '.join('::'.join(x) or 'lib' for x in sorted(comp)))
print(f'{total} cycles')
