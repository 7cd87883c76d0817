"""Growth analysis: the sites whose live bytes keep rising through a run.

A series is the live bytes of each site at successive points of one run:
the profiles --dump-every wrote (and the exit profile), or the detailed
snapshots of a massif-format file. A site is growing when, over the second
half of the series (by time), it

* reached a new high of its own at a share of the samples of at least
  MIN_SHARE (a cache that only inserts: nearly every sample; a bounded
  cache or a steady-state loop: at most a few, while it warms up; a
  buffer that keeps its capacity: whenever a bigger request came),
* grew by at least --growth-min bytes (from its value at the middle to its
  value at the end, which must be its highest),
* and the least-squares trend of its samples there rises.

Sites are ranked by their growth over the second half. Each is given with
its label, bytes now, the rate (per second when the series has wall-clock
times, per million instructions when it has instructions, per MiB
allocated for massif's --time-unit=B), its blocks and whether the exit
leak search found them still reachable (the unbounded-cache pattern) or
lost.
"""
from .cli import InputError
from .fmt import site_key
from .labels import label as _label

MIN_SHARE = 0.25
MIN_SAMPLES = 4
THRESHOLD_TEXT = "below massif's threshold"


def label(frames):
    """A site's name in the growth lists: its label (labels.py: the first
    frame in the program's own code), in full."""
    return _label(frames).full if frames else "(no frames)"


class Series:
    """times: the samples' times; unit: 'ms', 'i' or 'B'; sites: {key:
    {'frames', 'bytes': [per sample], 'blocks': [per sample or None]}};
    what: a sentence saying where the samples came from."""

    def __init__(self, times, unit, what):
        self.times, self.unit, self.what = times, unit, what
        self.wall = None  # wall-clock ms of each sample, when known
        self.sites = {}

    def add(self, key, frames, i, nbytes, nblocks=None):
        s = self.sites.get(key)
        if s is None:
            s = self.sites[key] = {"frames": frames, "bytes": [0] * len(self.times),
                                   "blocks": [0] * len(self.times)}
        s["bytes"][i] += nbytes
        if nblocks is None:
            s["blocks"] = None
        elif s["blocks"] is not None:
            s["blocks"][i] += nblocks


def from_profiles(profiles):
    """The series of several profiles of one run (dumps and the exit
    profile), in the order of their instruction counts. Times are wall-clock
    milliseconds when every profile has memtrack's 'mtms', else
    instructions."""
    if len(profiles) < 2:
        raise InputError("a growth series needs at least two profiles of one run "
                         "(--dump-every's dumps) or a massif-format file (--massif)")
    pids = {p.pid for p in profiles}
    if len(pids) > 1:
        raise InputError(f"the profiles are of {len(pids)} processes (pids "
                         f"{', '.join(str(x) for x in sorted(pids))}): a growth series is one run's")
    profiles = sorted(profiles, key=lambda p: p.te)
    # The exit profile (the latest) is left out of the trend when the dumps
    # alone make a series: a server that frees its caches as it shuts down
    # (Python's finalisation, a graceful stop) would otherwise look as if
    # it had stopped growing. It still says what was reachable at exit.
    if len(profiles) > MIN_SAMPLES:
        profiles = profiles[:-1]
    # The series runs on instructions (deterministic: the middle of the run
    # and the trend do not move with the machine's load); rates are per
    # second when every profile has its wall-clock time.
    s = Series([p.te for p in profiles], "i", f"{len(profiles)} profiles of pid {profiles[0].pid}")
    ms = [p.ms for p in profiles]
    if all(m is not None for m in ms):
        s.wall = ms
    for i, p in enumerate(profiles):
        for site in p.sites:
            s.add(site_key(site["frames"]), site["frames"], i, site.get("eb", 0), site.get("ebk", 0))
    return s


def _walk(node, path, out):
    kids = [c for c in node["children"] if THRESHOLD_TEXT not in c["text"]]
    below = sum(c["bytes"] for c in node["children"])
    here = node["bytes"] - below
    if path and here > 0:
        out.append((tuple(path), here))
    for c in kids:
        _walk(c, path + [c["text"]], out)


def from_massif(ms):
    """The series of a massif-format file's detailed (and peak) snapshots:
    a site is the path from the tree's root to where its stacks end."""
    snaps = [s for s in ms["snapshots"] if s["tree"] is not None]
    s = Series([x["time"] for x in snaps], ms["time_unit"],
               f"{len(snaps)} detailed snapshots of {ms['path']}")
    for i, snap in enumerate(snaps):
        found = []
        _walk(snap["tree"], [], found)
        for path, nbytes in found:
            s.add(site_key(list(path)), list(path), i, nbytes)
    return s


def _slope(ts, vs):
    n = len(ts)
    mt, mv = sum(ts) / n, sum(vs) / n
    den = sum((t - mt) ** 2 for t in ts)
    return 0.0 if den == 0 else sum((t - mt) * (v - mv) for t, v in zip(ts, vs)) / den


def _rate(unit, nbytes, span):
    """(rate, its unit) of nbytes over span of the series' time unit."""
    if span <= 0:
        return None, None
    if unit == "ms":
        return nbytes * 1000.0 / span, "bytes/s"
    if unit == "B":
        return nbytes * (1 << 20) / span, "bytes per MiB allocated"
    return nbytes * 1e6 / span, "bytes per million instructions"


def _exit_figures(exit_prof, key):
    """(blocks, {kind: bytes}) of the exit profile's sites whose frames
    start with key (a massif path stops at main; a profile's frames go on)."""
    if exit_prof is None:
        return None, None
    blocks, kinds = 0, {}
    found = False
    for site in exit_prof.sites:
        k = site_key(site["frames"])
        if k[:len(key)] != key:
            continue
        found = True
        blocks += site.get("ebk", 0)
        if exit_prof.leaks:
            for kind, bk in (("definite", "ldb"), ("indirect", "lib"), ("possible", "lpb"),
                             ("reachable", "lrb")):
                kinds[kind] = kinds.get(kind, 0) + site.get(bk, 0)
    if not found:
        return None, None
    return blocks, (kinds if exit_prof.leaks else None)


def analyse(series, exit_prof=None, growth_min=1024):
    """(growing sites ranked, every site's second-half growth). Each
    growing site: {key, frames, label, bytes_now, blocks_now, growth,
    share_new_high, slope, rate, rate_unit, at_exit}."""
    t = series.times
    n = len(t)
    growing, every = [], []
    if n < 2:
        return growing, every
    t_mid = t[0] + (t[-1] - t[0]) / 2
    mid = next(i for i in range(n) if t[i] >= t_mid)
    mid = min(mid, n - 2)
    for key, s in series.sites.items():
        b = s["bytes"]
        grew = b[-1] - b[mid]
        every.append({"key": key, "frames": s["frames"], "label": label(s["frames"]), "growth": grew,
                      "bytes_now": b[-1]})
        if n < MIN_SAMPLES:
            continue
        # New highs in the second half: samples above every earlier one.
        high = max(b[:mid + 1])
        highs = 0
        for v in b[mid + 1:]:
            if v > high:
                highs += 1
                high = v
        share = highs / (n - 1 - mid)
        slope = _slope(t[mid:], b[mid:])
        if share < MIN_SHARE or grew < max(growth_min, 1) or b[-1] < max(b) or slope <= 0:
            continue
        if series.wall is not None and series.wall[-1] > series.wall[mid]:
            rate, rate_unit = _rate("ms", grew, series.wall[-1] - series.wall[mid])
        else:
            rate, rate_unit = _rate(series.unit, grew, t[-1] - t[mid])
        blocks = s["blocks"][-1] if s["blocks"] is not None else None
        exit_blocks, kinds = _exit_figures(exit_prof, key)
        if blocks is None:
            blocks = exit_blocks
        growing.append({"key": key, "frames": s["frames"], "label": label(s["frames"]),
                        "bytes_now": b[-1], "blocks_now": blocks, "growth": grew,
                        "share_new_high": share, "slope": slope, "rate": rate,
                        "rate_unit": rate_unit, "at_exit": kinds, "samples": b})
    growing.sort(key=lambda g: (-g["growth"], g["key"]))
    every.sort(key=lambda g: (-g["growth"], g["key"]))
    return growing, every


def reachability(kinds):
    """A few words on what the exit leak search found of a site's blocks."""
    if kinds is None:
        return "no exit leak search in the profiles"
    lost = kinds.get("definite", 0) + kinds.get("indirect", 0) + kinds.get("possible", 0)
    reach = kinds.get("reachable", 0)
    if lost == 0 and reach == 0:
        return "nothing live at exit"
    if lost == 0:
        return "still reachable at exit (an unbounded cache or list?)"
    if reach == 0:
        return "lost at exit (a leak)"
    return f"{reach} bytes still reachable and {lost} lost at exit"
