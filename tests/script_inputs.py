"""Bad input files for the scripts (memtrack_print, memtrack_diff and
memtrack_report read them with the same reader, memtrack_print's): each
case's content, how to write it from a good file, and the words of the one
error line every script must print for it."""
import json
import re
import shutil

PROFILE_CASES = {
    "missing": (None, "no such file"),
    "directory": ("<dir>", "is a directory"),
    "empty": ("", "empty file"),
    "blank": (" \n\t\n", "empty file"),
    "half": ("<half>", "truncated memtrack profile"),
    "all-but-one": ("<cut1>", "truncated memtrack profile"),
    "cut-in-string": ("<cut-string>", "truncated memtrack profile"),
    "text": ("this is not a profile\n", "not JSON"),
    "binary": (b"\x7fELF\x02\x01\x01\x00\x00\xff\xfe", "not JSON"),
    "html": ("<!DOCTYPE html><html></html>", "not JSON"),
    "garbage-inside": ('{"dhatFileVersion": 2, @@@}', "bad JSON"),
    "extra-data": ('{"dhatFileVersion": 2} {}', "bad JSON"),
    "array": ("[1, 2, 3]", "not an object"),
    "number": ("2", "not an object"),
    "nan": ('{"dhatFileVersion": NaN}', "NaN"),
    "no-version": ('{"pps": [], "ftbl": ["[root]"]}', "no 'dhatFileVersion'"),
    "version-1": ("<version>1", "unsupported dhatFileVersion 1"),
    "version-3": ("<version>3", "unsupported dhatFileVersion 3"),
    "version-string": ('<version>"2"', 'unsupported dhatFileVersion "2"'),
    "version-true": ("<version>true", "unsupported dhatFileVersion true"),
    "no-mode": ("<drop>mode", "no 'mode'"),
    "unknown-mode": ('<set>mode="leak"', 'unknown mode "leak"'),
    "mode-case": ('<set>mode="Heap"', 'unknown mode "Heap"'),
    "mode-number": ("<set>mode=1", "unknown mode 1"),
    "no-te": ("<drop>te", "no 'te' key"),
    "no-tg": ("<drop>tg", "no 'tg' key"),
    "no-pps": ("<drop>pps", "no 'pps' key"),
    "pps-not-list": ('<set>pps={"a": 1}', "'pps' is not a list"),
    "bklt-string": ('<set>bklt="yes"', "'bklt' is not true or false"),
    "bad-frame-index": ("<pp>fs=[999]", "not an index into 'ftbl'"),
    "negative-bytes": ("<pp>tb=-5", "pps[0].tb"),
    "string-bytes": ('<pp>tb="12"', "pps[0].tb"),
    "missing-gb": ("<ppdrop>gb", "pps[0] has no 'gb'"),
    "missing-leak-key": ("<ppdrop>lpbk", "pps[0] has no 'lpbk'"),
    "bad-acc": ('<pp>acc=[1, "x"]', "pps[0].acc"),
    "acc-ends-in-count": ("<pp>acc=[1, -3]", "ends with a repeat count"),
}


def write_profile_case(path, content, good):
    """Writes the profile case content at path, from the good profile's text."""
    if content is None:
        return
    if content == "<dir>":
        path.mkdir()
    elif content == "<half>":
        path.write_text(good[:len(good) // 2])
    elif content == "<cut1>":
        path.write_text(good.rstrip()[:-1])
    elif content == "<cut-string>":
        i = good.index('"ftbl"')
        path.write_text(good[:i + 12])
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif re.match(r"^<(version|drop|set|pp|ppdrop)>", content):
        m = re.match(r"^<(\w+)>([^=]+)(?:=(.*))?$", content, re.S)
        what, key, val = m[1], m[2], m[3]
        doc = json.loads(good)
        if what == "version":
            text = good.replace('"dhatFileVersion":2', f'"dhatFileVersion":{key}', 1)
            assert text != good, good[:100]
            path.write_text(text)
            return
        if what == "drop":
            del doc[key]
        elif what == "set":
            doc[key] = json.loads(val)
        elif what == "pp":
            doc["pps"][0][key] = json.loads(val)
        elif what == "ppdrop":
            del doc["pps"][0][key]
        path.write_text(json.dumps(doc))
    else:
        path.write_text(content)


MASSIF_CASES = {
    "missing": (None, "no such file"),
    "empty": ("", "empty file"),
    "json": ("<profile>", "looks like JSON"),
    "text": ("hello\nworld\n", "does not start with 'desc:'"),
    "no-cmd": ("desc: (none)\ntime_unit: B\n", "expected 'cmd: <command>'"),
    "bad-time-unit": ("desc: (none)\ncmd: ./x\ntime_unit: s\n", "time_unit 's'"),
    "no-snapshots": ("desc: (none)\ncmd: ./x\ntime_unit: i\n", "no snapshots"),
    "extra-key": ("<extra>", "expected 'mem_heap_B=...'"),
    "bad-number": ("<number>", "is not a whole number"),
    "bad-tree-kind": ("<tree>", "heap_tree='busy'"),
    "bad-tree-line": ("<tree-line>", "expected a heap tree line"),
    "time-backwards": ("<backwards>", "is before the previous"),
    "cut-in-snapshot": ("<cut-snapshot>", "truncated massif file"),
    "cut-in-tree": ("<cut-tree>", "truncated massif file"),
    "cut-in-line": ("<cut-line>", "truncated massif file"),
}


def write_massif_case(path, content, good, profile):
    """Writes the massif case content at path, from the good massif file's
    text; profile is a good profile (for the case that gives one instead)."""
    lines = good.splitlines(keepends=True)
    if content is None:
        pass
    elif content == "<profile>":
        shutil.copy(profile, path)
    elif content == "<extra>":
        path.write_text(good.replace("time=0\n", "time=0\nmem_total_B=0\n", 1))
    elif content == "<number>":
        path.write_text(good.replace("mem_heap_B=1000\n", "mem_heap_B=1e3\n", 1))
    elif content == "<tree>":
        path.write_text(good.replace("heap_tree=empty\n", "heap_tree=busy\n", 1))
    elif content == "<tree-line>":
        i = [k for k, l in enumerate(lines) if l.startswith("heap_tree=detailed")][0]
        lines[i + 1] = "this is no tree\n"
        path.write_text("".join(lines))
    elif content == "<backwards>":
        i = [k for k, l in enumerate(lines) if l.startswith("time=")][3]
        lines[i] = "time=1\n"
        path.write_text("".join(lines))
    elif content == "<cut-snapshot>":
        i = [k for k, l in enumerate(lines) if l.startswith("mem_heap_extra_B=")][5]
        path.write_text("".join(lines[:i]))
    elif content == "<cut-tree>":
        i = [k for k, l in enumerate(lines) if l.startswith("heap_tree=peak")][0]
        assert lines[i + 2].lstrip().startswith("n"), lines[i:i + 3]
        path.write_text("".join(lines[:i + 2]))
    elif content == "<cut-line>":
        path.write_text(good[:len(good) // 2 + 3].rstrip("\n") + "x")
    else:
        path.write_text(content)
