"""The functions of the allocation stacks, and how a site is named.

    function_of(frame)   the function a frame is in: what the flame graph
                         merges boxes by and the caller/callee table lists
    site_name(site)      the one name a site gets in a table, a tooltip or a
                         heading: its label, from labels.py (every script
                         and the report's page call this)
    function_table(prof) heaptrack's caller/callee view: per function, the
                         bytes, blocks, bytes at t-gmax and at t-end and
                         leaked bytes of the sites below it (inclusive) and
                         of the sites where it called the allocator (self),
                         and the same per caller and per callee
    temporary(s), short_lived(prof, s)
                         a site's temporary blocks (heaptrack's meaning) and
                         short-lived blocks (DHAT's)
"""
from .fmt import strip_address
from .labels import site_name  # noqa: F401 (the label: the first frame in the program's own code)
from .tables import leaked

def function_of(frame):
    """'0x4012AB: tokenize (lex.c:12)' -> 'tokenize': the frame's function
    name, without address and location, so the lines of one function are
    one function (inlined copies included, whose file is the header's), as
    flamegraph.pl, heaptrack and speedscope count them; two functions of
    one name in different files (static ones) are one too, as there. A
    frame without a function name ('0x4012AB: ??? (in /lib/x.so)') stays
    whole: two such frames are not known to be one function."""
    f = strip_address(frame)
    if f.startswith("???"):
        return frame
    if f.endswith(")"):
        cut = f.rfind(" (")
        if cut > 0:
            return f[:cut]
    return f


# ---------------------------------------------------------------------------
# A site's temporary and short-lived blocks


def temporary(s):
    """(bytes, blocks) of the site's temporary blocks: freed with nothing
    allocated in between by the same thread (heaptrack's "temporary
    allocations"), from the profile's tmpb/tmpbk (memtrack's keys; 0 when
    the profile has none)."""
    return s.get("tmpb", 0), s.get("tmpbk", 0)


def short_lived(prof, s, threshold=None):
    """(bytes, blocks) of the site when its blocks are short-lived as DHAT
    means it: an average lifetime of at most the profile's threshold (tuth,
    or the one given) instructions; else (0, 0). The profile keeps each
    site's summed lifetime, not each block's, so the average is what can be
    told (DHAT's viewer sorts "Total (blocks), short-lived" by the same).
    The reader puts the figure for tuth in the site's slb/slbk."""
    if not prof.bklt:
        return 0, 0
    if threshold is None:
        return s["slb"], s["slbk"]
    if not s["tbk"] or s["tl"] > threshold * s["tbk"]:
        return 0, 0
    return s["tb"], s["tbk"]


# ---------------------------------------------------------------------------
# The caller/callee table

# The figures summed per function: (name, what a site gives).
FIGURES = (("bytes", lambda s: s["tb"]), ("blocks", lambda s: s["tbk"]),
           ("peak", lambda s: s.get("gb", 0)), ("end", lambda s: s.get("eb", 0)),
           ("leaked", lambda s: leaked(s)[0]), ("temporary", lambda s: temporary(s)[1]))


def _zero():
    return dict.fromkeys((k for k, _ in FIGURES), 0)


def _add(into, v):
    for k, x in v.items():
        into[k] += x


def function_table(prof):
    """[{"function", "self", "inclusive", "callers", "callees"}], largest
    inclusive bytes first. self and inclusive are {figure: sum}; callers and
    callees are [[function, {figure: sum}], ...], largest first.

    A site counts once in a function's inclusive figures however often the
    function appears in its stack (recursion), and once in each edge
    caller -> callee it holds; a function calling itself is no edge. Self
    is the site's innermost frame's function: the one that called the
    allocator (memtrack's own allocator frames are already left out of the
    profile's stacks)."""
    funcs = {}

    def entry(k):
        e = funcs.get(k)
        if e is None:
            e = funcs[k] = {"function": k, "self": _zero(), "inclusive": _zero(),
                            "callers": {}, "callees": {}}
        return e

    for s in prof.sites:
        keys = [function_of(f) for f in s["frames"]]
        if not keys:
            continue
        v = {k: f(s) for k, f in FIGURES}
        for k in dict.fromkeys(keys):
            _add(entry(k)["inclusive"], v)
        _add(entry(keys[0])["self"], v)
        edges = dict.fromkeys((keys[i + 1], keys[i]) for i in range(len(keys) - 1)
                              if keys[i + 1] != keys[i])
        for caller, callee in edges:
            _add(entry(callee)["callers"].setdefault(caller, _zero()), v)
            _add(entry(caller)["callees"].setdefault(callee, _zero()), v)

    def ranked(d):
        return sorted(([k, v] for k, v in d.items()),
                      key=lambda kv: (-kv[1]["bytes"], -kv[1]["blocks"], kv[0]))

    out = []
    for e in funcs.values():
        e["callers"], e["callees"] = ranked(e["callers"]), ranked(e["callees"])
        out.append(e)
    out.sort(key=lambda e: (-e["inclusive"]["bytes"], -e["self"]["bytes"],
                            -e["inclusive"]["blocks"], e["function"]))
    return out
