"""The tables every script reads the same way: a profile's keys, memcheck's
leak kinds, the metrics a site can be sorted and compared by, and what a
profile must have for each."""
from collections import namedtuple

from .cli import UsageError, one_line, parse_list

MODES = ("heap", "copy", "ad-hoc")
# What DHAT's viewer (dh_view.js 3.19) insists on; the reader accepts
# exactly the files the viewer accepts.
TOP_KEYS = ("dhatFileVersion", "mode", "verb", "bklt", "bkacc", "tu", "Mtu", "cmd", "pid",
            "te", "pps", "ftbl")
# A program point's figures beyond tb and tbk: with block lifetimes (bklt),
# with access counts (bkacc), and memtrack's leak figures (mtleak).
LIFETIME_KEYS = ("tl", "mb", "mbk", "gb", "gbk", "eb", "ebk")
ACCESS_KEYS = ("rb", "wb")
LEAK_KEYS = ("ldb", "ldbk", "lib", "libk", "lpb", "lpbk", "lrb", "lrbk")
# memtrack's temporary blocks (bytes, blocks) per site, when the profile
# says "mttemp": true.
TEMP_KEYS = ("tmpb", "tmpbk")
# What a profile needs for a figure (the Profile attribute that says it has
# it), in the words of an error that finds it missing.
NEEDS = {"bklt": "block lifetimes (a heap-mode profile)",
         "bkacc": "access counts (a heap-mode profile with --access-tracking=yes)",
         "leaks": "leak figures (memtrack with --leak-check other than no)",
         "temps": "counts of temporary blocks (a heap-mode profile of this memtrack)"}


def has(prof, need):
    """Whether prof has the figures need names (None: every profile has them)."""
    return need is None or bool(getattr(prof, need))


# ---------------------------------------------------------------------------
# memcheck's leak kinds: (name, bytes key, blocks key, heading), in
# memcheck's order

LEAK_KINDS = (("definite", "ldb", "ldbk", "definitely lost"),
              ("indirect", "lib", "libk", "indirectly lost"),
              ("possible", "lpb", "lpbk", "possibly lost"),
              ("reachable", "lrb", "lrbk", "still reachable"))


def leaked(s, kinds=("definite", "indirect")):
    """Leaked bytes of the given kinds (memcheck's "leaked": definitely plus
    indirectly lost), and the blocks."""
    keys = {k: (b, bk) for k, b, bk, _ in LEAK_KINDS}
    return (sum(s.get(keys[k][0], 0) for k in kinds),
            sum(s.get(keys[k][1], 0) for k in kinds))


def parse_kinds(text, option):
    """A --leak-kinds value: a list of kind names, all or none."""
    names = [k for k, *_ in LEAK_KINDS]
    t = text.strip()
    if t == "all":
        return names
    if t == "none":
        return []
    return parse_list(t, option, names)


# ---------------------------------------------------------------------------
# Metrics: a figure per site, to sort by. key is the program point's key the
# value is, when it is one key as it stands (a page script reads it there).

Metric = namedtuple("Metric", "desc needs value key")


def ratio(a, b):
    return a / b if b else 0.0


def _key(k, desc, needs=None):
    return Metric(desc, needs, lambda s: s[k], k)


METRICS = {
    "total": _key("tb", "total bytes"),
    "total-blocks": _key("tbk", "total blocks"),
    "peak": _key("gb", "bytes at t-gmax (the heap's peak)", "bklt"),
    "peak-blocks": _key("gbk", "blocks at t-gmax", "bklt"),
    "max": _key("mb", "the site's own peak (bytes)", "bklt"),
    "end": _key("eb", "bytes at t-end (never freed)", "bklt"),
    "end-blocks": _key("ebk", "blocks at t-end", "bklt"),
    "reads": _key("rb", "bytes read", "bkacc"),
    "writes": _key("wb", "bytes written", "bkacc"),
    "reads-per-byte": Metric("reads per byte allocated", "bkacc",
                             lambda s: ratio(s["rb"], s["tb"]), None),
    "writes-per-byte": Metric("writes per byte allocated", "bkacc",
                              lambda s: ratio(s["wb"], s["tb"]), None),
    "lifetime": Metric("average block lifetime", "bklt",
                       lambda s: ratio(s["tl"], s["tbk"]), None),
    "avg-size": Metric("average block size", None, lambda s: ratio(s["tb"], s["tbk"]), None),
    "leaked": Metric("bytes leaked (definitely + indirectly lost)", "leaks",
                     lambda s: leaked(s)[0], None),
    "short-lived": _key("slbk", "short-lived blocks (average lifetime <= the profile's tuth)",
                        "bklt"),
    "temporary": _key("tmpbk", "temporary blocks (freed with no allocation in between)",
                      "temps"),
}
# Other names for some (memtrack_report's --sort says "blocks").
METRIC_ALIASES = {"blocks": "total-blocks", "bytes": "total", "t-gmax": "peak", "gmax": "peak",
                  "t-end": "end", "size": "avg-size", "temp": "temporary",
                  "short": "short-lived"}


def metric_name(text, option="--sort"):
    """The metric text names (a name or an alias)."""
    name = METRIC_ALIASES.get(text, text)
    if name not in METRICS:
        raise UsageError(f"{option}: unknown metric {one_line(text)!r}; one of: "
                         + ", ".join(METRICS))
    return name


def metric(name):
    """The Metric of a name or alias."""
    return METRICS[METRIC_ALIASES.get(name, name)]


def check_metric(prof, name, option="--sort"):
    need = metric(name).needs
    if not has(prof, need):
        raise UsageError(f"{option}={name}: {prof.path} has no {NEEDS[need]}")


def metric_value(prof, name):
    """The value of a metric for each site of prof: 0 when prof has not the
    figures it needs."""
    m = metric(name)
    return m.value if has(prof, m.needs) else (lambda s: 0)


# ---------------------------------------------------------------------------
# A massif-format file's time units (its time_unit line), in words

TIME_UNITS = {"i": "instructions", "ms": "milliseconds", "B": "bytes allocated and freed"}
