"""The scripts' two readers. load_profile: a profile in DHAT's JSON format,
version 2 (memtrack's, with its leak keys, or DHAT's own), checked key by
key as DHAT's viewer would take it. load_massif: a file in massif's text
format (memtrack's --massif-out-file or massif's own), read as ms_print
reads it. A file that is missing, empty, cut short, not the format or
malformed in any way raises InputError with one line that names it and
says what is wrong."""
import json
import re

from .cli import InputError, one_line
from .tables import (ACCESS_KEYS, LEAK_KEYS, LIFETIME_KEYS, MODES, TEMP_KEYS, TIME_UNITS,
                     TOP_KEYS)


# ---------------------------------------------------------------------------
# Any input file


def read_input(path, what):
    """The file's text; InputError when it is missing, unreadable or empty."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a {what}") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read it: {e.strerror or e}") from None
    if not data.strip():
        raise InputError(f"{path}: empty file, not a {what}")
    return data.decode("utf-8", "replace")


_NUMBER_START = re.compile(r"-?(\d+(\.\d*)?([eE][+-]?\d*)?)?")


def _cut_short(text, pos):
    """Whether text, which json could not parse at pos, is the beginning of
    a JSON document cut off (rather than something that is not JSON)."""
    depth, in_str, esc, str_start = 0, False, False, -1
    for i, ch in enumerate(text):
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str, str_start = True, i
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
    if in_str:
        return str_start <= pos
    if depth <= 0:
        return False
    rest = text[pos:].strip()
    return (not rest or any(w.startswith(rest) for w in ("true", "false", "null"))
            or _NUMBER_START.fullmatch(rest) is not None)


def _no_constants(name):
    raise ValueError(f"it holds {name}, which is not JSON")


def parse_json(path, text, what):
    try:
        return json.loads(text, parse_constant=_no_constants)
    except json.JSONDecodeError as e:
        if _cut_short(text, e.pos):
            raise InputError(f"{path}: truncated {what}: the JSON stops at line {e.lineno} "
                             "before it is complete") from None
        if not text.lstrip().startswith(("{", "[")):
            raise InputError(f"{path}: not a {what}: not JSON ({e.msg} at line {e.lineno} "
                             f"column {e.colno})") from None
        raise InputError(f"{path}: not a {what}: bad JSON at line {e.lineno} column "
                         f"{e.colno}: {e.msg}") from None
    except (ValueError, RecursionError) as e:
        raise InputError(f"{path}: not a {what}: {e}") from None


# ---------------------------------------------------------------------------
# A profile (DHAT's JSON format, version 2, plus memtrack's keys)


def _nat(path, where, v):
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise InputError(f"{path}: bad profile: {where} is {one_line(json.dumps(v))}, "
                         "not a whole number >= 0")
    return v


def decode_acc(path, where, acc):
    """DHAT's run-length coded per-byte access counts as a list (a negative
    entry -N repeats the next value N times)."""
    if not isinstance(acc, list):
        raise InputError(f"{path}: bad profile: {where} is not a list")
    out, i = [], 0
    while i < len(acc):
        v = acc[i]
        if not isinstance(v, int) or isinstance(v, bool):
            raise InputError(f"{path}: bad profile: {where}[{i}] is not a number")
        if v < 0:
            if i + 1 >= len(acc):
                raise InputError(f"{path}: bad profile: {where} ends with a repeat count")
            out.extend([_nat(path, f"{where}[{i + 1}]", acc[i + 1])] * (-v))
            i += 2
        else:
            out.append(v)
            i += 1
    return out


def _is_nat(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


class Profile:
    """A checked profile. sites: one dict per program point with its
    figures (the pps' keys), 'frames' (strings, innermost first) and 'acc'
    (decoded, or None)."""

    def __init__(self, path, doc):
        self.path = path
        if "mode" not in doc:
            raise InputError(f"{path}: bad profile: no 'mode' (heap, copy or ad-hoc)")
        mode = doc["mode"]
        if mode not in MODES:
            raise InputError(f"{path}: unknown mode {one_line(json.dumps(mode))}: "
                             "expected heap, copy or ad-hoc")
        self.mode = mode
        for k in TOP_KEYS:
            if k not in doc:
                raise InputError(f"{path}: not a complete DHAT-format profile: no '{k}' key")
        for k in ("bklt", "bkacc"):
            if not isinstance(doc[k], bool):
                raise InputError(f"{path}: bad profile: '{k}' is not true or false")
        self.bklt, self.bkacc = doc["bklt"], doc["bkacc"]
        self.leaks = doc.get("mtleak") is True
        # memtrack's count of temporary blocks (docs/format.md), heap mode.
        self.temps = doc.get("mttemp") is True and self.bklt
        if self.bklt:
            for k in ("tg", "tuth"):
                if k not in doc:
                    raise InputError(f"{path}: not a complete DHAT-format profile: no '{k}' key "
                                     "(it has block lifetimes)")
        self.te = _nat(path, "te", doc["te"])
        self.tg = _nat(path, "tg", doc["tg"]) if self.bklt else None
        self.tuth = _nat(path, "tuth", doc["tuth"]) if self.bklt else None
        self.cmd = str(doc["cmd"])
        self.pid = doc["pid"]
        # memtrack's extra keys: the parent's pid and the wall-clock time
        # of writing (ms since Valgrind started); None in DHAT's files.
        self.ppid = doc["mtppid"] if _is_nat(doc.get("mtppid")) else None
        self.ms = doc["mtms"] if _is_nat(doc.get("mtms")) else None
        self.verb = str(doc["verb"])
        self.tu, self.Mtu = str(doc["tu"]), str(doc["Mtu"])
        # The units as DHAT's viewer names them (ad-hoc profiles say theirs).
        self.bytes_unit = str(doc.get("bsu", "bytes"))
        self.blocks_unit = str(doc.get("bksu", "blocks"))
        ftbl, pps = doc["ftbl"], doc["pps"]
        if not isinstance(ftbl, list) or not all(isinstance(f, str) for f in ftbl):
            raise InputError(f"{path}: bad profile: 'ftbl' is not a list of strings")
        if not isinstance(pps, list):
            raise InputError(f"{path}: bad profile: 'pps' is not a list")
        need = ["tb", "tbk"] + (list(LIFETIME_KEYS) if self.bklt else []) \
            + (list(ACCESS_KEYS) if self.bkacc else []) + (list(LEAK_KEYS) if self.leaks else []) \
            + (list(TEMP_KEYS) if self.temps else [])
        self.sites = []
        for i, pp in enumerate(pps):
            if not isinstance(pp, dict):
                raise InputError(f"{path}: bad profile: pps[{i}] is not an object")
            s = {}
            for k in need:
                if k not in pp:
                    raise InputError(f"{path}: bad profile: pps[{i}] has no '{k}'")
                s[k] = _nat(path, f"pps[{i}].{k}", pp[k])
            fs = pp.get("fs")
            if not isinstance(fs, list):
                raise InputError(f"{path}: bad profile: pps[{i}] has no 'fs' list")
            for j, x in enumerate(fs):
                if not isinstance(x, int) or isinstance(x, bool) or not 0 <= x < len(ftbl):
                    raise InputError(f"{path}: bad profile: pps[{i}].fs[{j}] = "
                                     f"{one_line(json.dumps(x))} is not an index into 'ftbl' "
                                     f"({len(ftbl)} entries)")
            s["frames"] = [ftbl[x] for x in fs]
            s["acc"] = decode_acc(path, f"pps[{i}].acc", pp["acc"]) if "acc" in pp else None
            s["index"] = i
            # DHAT's short-lived blocks: all of a site's when their average
            # lifetime is at most tuth instructions (the viewer's "Total
            # (blocks), short-lived"); the profile has no finer figure.
            if self.bklt:
                s["slbk"] = s["tbk"] if s["tbk"] and s["tl"] <= self.tuth * s["tbk"] else 0
                s["slb"] = s["tb"] if s["slbk"] else 0
            self.sites.append(s)

    def total(self, key):
        return sum(s.get(key, 0) for s in self.sites)


def load_profile(path):
    text = read_input(path, "memtrack profile")
    if text.lstrip().startswith("desc:"):
        # The run's other file, given in the profile's place.
        raise InputError(f"{path}: a massif-format file, not a memtrack profile: give it with "
                         f"--massif beside the run's profile (memtrack_print PROFILE "
                         f"--massif={path})")
    doc = parse_json(path, text, "memtrack profile")
    if not isinstance(doc, dict):
        raise InputError(f"{path}: not a memtrack profile: the JSON is "
                         f"{'an array' if isinstance(doc, list) else 'a ' + type(doc).__name__}, "
                         "not an object")
    if "dhatFileVersion" not in doc:
        raise InputError(f"{path}: not a memtrack/DHAT profile: no 'dhatFileVersion' key")
    ver = doc["dhatFileVersion"]
    if ver != 2 or isinstance(ver, bool) or not isinstance(ver, int):
        raise InputError(f"{path}: unsupported dhatFileVersion {one_line(json.dumps(ver))}: "
                         "only version 2 is read (the format of memtrack and of DHAT 3.19)")
    return Profile(path, doc)


# ---------------------------------------------------------------------------
# A massif-format file

SNAPSHOT_KEYS = ("snapshot", "time", "mem_heap_B", "mem_heap_extra_B", "mem_stacks_B",
                 "heap_tree")
_NODE = re.compile(r"^\s*n(\d+):\s+(\d+)(?:\s+(.*))?$", re.ASCII)


def load_massif(path):
    """{cmd, desc, time_unit, snapshots: [{n, time, heap, extra, stacks,
    total, kind, tree}]}, a tree node being {bytes, text, children}.
    The format is massif's (Valgrind 3.19), read as ms_print reads it: '#'
    lines and blank lines are skipped, a tree's shape comes from each
    node's child count alone."""
    text = read_input(path, "massif file")
    if text.lstrip().startswith(("{", "[")):
        raise InputError(f"{path}: not a massif file: it looks like JSON (--massif wants "
                         "massif's text format, from --massif-out-file)")
    if not text.lstrip().startswith("desc:"):
        raise InputError(f"{path}: not a massif file: it does not start with 'desc:'")
    if not text.endswith("\n"):
        raise InputError(f"{path}: truncated massif file: its last line "
                         f"({text.count(chr(10)) + 1}) has no line end")
    lines = []
    for no, ln in enumerate(text.split("\n"), 1):
        ln = ln.rstrip("\r")  # (a file that went through Windows; ms_print would refuse it)
        if ln.strip() and not ln.lstrip().startswith("#"):
            lines.append((no, ln))
    pos = [0]

    def take(what):
        if pos[0] >= len(lines):
            raise InputError(f"{path}: truncated massif file: it ends before {what}")
        pos[0] += 1
        return lines[pos[0] - 1]

    def bad(no, msg):
        return InputError(f"{path}: bad massif file: line {no}: {msg}")

    desc = []
    while pos[0] < len(lines) and lines[pos[0]][1].startswith("desc:"):
        desc.append(lines[pos[0]][1][5:].strip())
        pos[0] += 1
    no, ln = take("its 'cmd:' line")
    if not ln.startswith("cmd:"):
        raise bad(no, f"expected 'cmd: <command>', found {one_line(ln)!r}")
    cmd = ln[4:].strip()
    no, ln = take("its 'time_unit:' line")
    if not ln.startswith("time_unit:"):
        raise bad(no, f"expected 'time_unit: i|ms|B', found {one_line(ln)!r}")
    unit = ln[10:].strip()
    if unit not in TIME_UNITS:
        raise bad(no, f"time_unit {one_line(unit)!r} is none of i, ms, B")
    snaps = []
    while pos[0] < len(lines):
        vals = {}
        first = lines[pos[0]][0]
        for key in SNAPSHOT_KEYS:
            no, ln = take(f"the end of snapshot {len(snaps)} (line {first}): no '{key}=' line")
            k, eq, v = ln.partition("=")
            v = v.strip()
            if not eq or k != key:
                raise bad(no, f"expected '{key}=...', found {one_line(ln)!r}")
            if key == "heap_tree":
                if v not in ("empty", "detailed", "peak"):
                    raise bad(no, f"heap_tree={one_line(v)!r} is none of empty, detailed, peak")
            elif not (v.isascii() and v.isdigit()):
                raise bad(no, f"{key}={one_line(v)!r} is not a whole number")
            else:
                v = int(v)
            vals[key] = v
        if snaps and vals["time"] < snaps[-1]["time"]:
            raise bad(first, f"snapshot {vals['snapshot']}'s time {vals['time']} is before "
                      f"the previous snapshot's ({snaps[-1]['time']})")
        tree = None
        if vals["heap_tree"] != "empty":
            tree = _massif_tree(path, lines, pos, vals["snapshot"], bad)
        total = vals["mem_heap_B"] + vals["mem_heap_extra_B"] + vals["mem_stacks_B"]
        snaps.append({"n": vals["snapshot"], "time": vals["time"], "heap": vals["mem_heap_B"],
                      "extra": vals["mem_heap_extra_B"], "stacks": vals["mem_stacks_B"],
                      "total": total, "kind": vals["heap_tree"], "tree": tree})
    if not snaps:
        raise InputError(f"{path}: truncated massif file: no snapshots")
    return {"path": path, "cmd": cmd, "desc": " ".join(desc), "time_unit": unit,
            "snapshots": snaps}


def _massif_tree(path, lines, pos, snap, bad):
    root, stack = None, []  # stack: [node, children still to come]
    while True:
        if pos[0] >= len(lines):
            raise InputError(f"{path}: truncated massif file: the heap tree of snapshot {snap} "
                             "ends early")
        no, ln = lines[pos[0]]
        pos[0] += 1
        m = _NODE.match(ln)
        if not m:
            raise bad(no, f"expected a heap tree line 'n<children>: <bytes> <text>', found "
                      f"{one_line(ln)!r}")
        node = {"bytes": int(m.group(2)), "text": (m.group(3) or "").strip(), "children": []}
        if stack:
            stack[-1][0]["children"].append(node)
            stack[-1][1] -= 1
        else:
            root = node
        stack.append([node, int(m.group(1))])
        while stack and stack[-1][1] == 0:
            stack.pop()
        if not stack:
            return root


def massif_peak(ms):
    """The position of the peak snapshot (heap_tree=peak; else the largest
    total, the latest of equals) and whether the file marks it."""
    snaps = ms["snapshots"]
    marked = [i for i, s in enumerate(snaps) if s["kind"] == "peak"]
    if marked:
        return marked[-1], True
    best = 0
    for i, s in enumerate(snaps):
        if s["total"] >= snaps[best]["total"]:
            best = i
    return best, False
