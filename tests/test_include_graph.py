"""The include graph of memtrack/ (docs/design.md, "Layers"): data flows one
way, so no two modules include each other, directly or through others.

A module is mt_NAME.h with mt_NAME.cpp; module A depends on B when a file
of A includes mt_B.h. The test fails when that graph has a cycle, and names
it. Modules that only read heap blocks take them from the block store
(mt_store.h), not from the heap module, which is the top of the heap-event
flow.
"""
import re

import pytest

import helpers

pytestmark = pytest.mark.version_independent

SRC = helpers.REPO / "memtrack"
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

# Who may include mt_heap.h: the heap module itself, the entry that
# registers it, and the client requests that call its entry points
# (pvalloc, the preload's alignment checks).
HEAP_INCLUDERS = {"mt_heap", "mt_main", "mt_clientreq"}


def module(name):
    return re.sub(r"\.(h|cpp|c)$", "", name)


def include_graph(files):
    """{module: {module it includes}} from {file name: text}; includes of
    files not in `files` (Valgrind's headers) are left out."""
    graph = {}
    for name, text in files.items():
        src = module(name)
        deps = graph.setdefault(src, set())
        for target in INCLUDE.findall(text):
            if target in files and module(target) != src:
                deps.add(module(target))
    return graph


def cycles(graph):
    """The strongly connected components of more than one module (Tarjan),
    each sorted; a graph without cycles gives []."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def memtrack_files():
    return {p.name: p.read_text(errors="replace") for p in SRC.iterdir()
            if p.suffix in (".h", ".cpp", ".c")}


def test_reader_finds_includes():
    # The graph the test reads must be the real one: a few edges every
    # build has.
    graph = include_graph(memtrack_files())
    assert "mt_store" in graph["mt_heap"]
    assert "mt_blocks" in graph["mt_store"]
    assert "mt_rt" in graph["mt_options"]
    assert len(graph) > 20


@pytest.mark.parametrize("files, expected", [
    ({"mt_a.h": '#include "mt_b.h"\n', "mt_b.cpp": '#include "mt_a.h"\n', "mt_b.h": ""},
     [["mt_a", "mt_b"]]),
    ({"mt_a.cpp": '#include "mt_b.h"\n', "mt_b.h": '#include "mt_c.h"\n',
      "mt_c.cpp": ' #  include "mt_a.h"\n', "mt_a.h": "", "mt_c.h": ""},
     [["mt_a", "mt_b", "mt_c"]]),
    ({"mt_a.cpp": '#include "mt_a.h"\n#include "mt_b.h"\n#include "pub_tool_basics.h"\n',
      "mt_a.h": "", "mt_b.h": '#include "mt_c.h"\n', "mt_c.h": ""}, []),
])
def test_cycle_finder(files, expected):
    # The check itself: it sees a pair, a longer cycle, and none.
    assert cycles(include_graph(files)) == expected


def test_no_include_cycle():
    found = cycles(include_graph(memtrack_files()))
    assert not found, ("modules of memtrack/ that include each other (through each other's headers): "
                       + "; ".join(" <-> ".join(c) for c in found)
                       + " — see docs/design.md, \"Layers\"")


def test_heap_header_only_above_the_heap():
    users = {module(name) for name, text in memtrack_files().items()
             if "mt_heap.h" in INCLUDE.findall(text)}
    assert users - HEAP_INCLUDERS == set(), (
        f"{sorted(users - HEAP_INCLUDERS)} include mt_heap.h: modules that read heap blocks use mt_store.h")
