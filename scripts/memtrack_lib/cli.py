"""The scripts' argument and error conventions: a bad option, option value
or input file is one line on standard error, "PROG: error: what", and exit
status 2; nothing is written to standard output."""
import argparse
import re
import signal
import sys

from . import VERSION


class InputError(Exception):
    """An input file that cannot be used; the message is one line."""


class UsageError(Exception):
    """A bad option value; the message is one line."""


def one_line(s, limit=60):
    """s on one line, at most limit characters, for error messages."""
    s = " ".join(str(s).split())
    return s if len(s) <= limit else s[:limit - 3] + "..."


def fail(prog, msg, status=2):
    sys.stderr.write(f"{prog}: error: {msg}\n")
    sys.exit(status)


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage block) and exit status 2."""

    def error(self, message):
        fail(self.prog, message.replace("\n", " "))


def add_frames_option(p):
    """--frames, of a script that prints stacks (frame_lines)."""
    p.add_argument("--frames", default="12", metavar="N",
                   help="frames shown per site, 0 for all [12]")


def add_format_option(p):
    """--format, of a script that prints text or one JSON document."""
    p.add_argument("--format", default="text", choices=("text", "json"),
                   help="text for people, json for tools [text]")


def usage_if_no_args(prog, argv, what, examples):
    """A script run with no arguments at all: a short usage (what it does,
    examples, where the options are) on standard error, exit status 2,
    rather than argparse's one-line complaint."""
    if argv:
        return
    sys.stderr.write(f"{prog}: {what}\n\nusage:\n"
                     + "".join(f"  {prog} {e}\n" for e in examples)
                     + f"\n{prog} --help lists every option; man {prog} has the rest.\n")
    sys.exit(2)


def version(prog):
    """What --version prints."""
    return f"{prog} (memtrack) {VERSION}"


def setup_output():
    """For a script that writes text to standard output."""
    # Behave like a C filter when the reader goes away (memtrack_print | head).
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    # Frame strings may hold anything JSON can spell (even lone surrogates).
    try:
        sys.stdout.reconfigure(errors="backslashreplace")
    except (AttributeError, ValueError):
        pass


# ---------------------------------------------------------------------------
# Option values: UsageError naming the option when a value is not one

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")
_SIZE_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
               "m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
               "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
               "t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40}


def parse_size(text, option):
    """A byte count: a number with an optional suffix K, M, G, T (also KB,
    KiB...; all powers of 1024, any case)."""
    m = _SIZE.match(text)
    if not m or m.group(2).lower() not in _SIZE_UNITS:
        raise UsageError(f"{option}: {one_line(text)!r} is not a size (a number of bytes, "
                         "optionally with K, M, G, KiB, MiB or GiB)")
    return int(float(m.group(1)) * _SIZE_UNITS[m.group(2).lower()])


def parse_count(text, option, lo=0, hi=None):
    """A whole number from lo to hi (no upper bound when hi is None)."""
    try:
        n = int(text, 10)
    except ValueError:
        n = None
    if n is None or n < lo or (hi is not None and n > hi):
        rng = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise UsageError(f"{option}: {one_line(text)!r} is not a whole number {rng}")
    return n


def parse_list(text, option, allowed):
    """A comma-separated list of words from allowed, each once, in the order
    given."""
    out = []
    for w in (x.strip() for x in text.split(",")):
        if w not in allowed:
            raise UsageError(f"{option}: unknown item {one_line(w)!r}; one of: "
                             + ", ".join(allowed))
        if w not in out:
            out.append(w)
    return out


def parse_limit(text, option):
    """A growth limit: a percentage (10%) or an amount of bytes (1MiB).
    ("percent", float) or ("size", int)."""
    t = text.strip()
    if t.endswith("%"):
        try:
            v = float(t[:-1])
        except ValueError:
            v = -1
        if not (v >= 0 and v != float("inf")):
            raise UsageError(f"{option}: {one_line(text)!r} is not a percentage >= 0")
        return ("percent", v)
    if re.fullmatch(r"\d+(\.\d+)?", t) and float(t) != 0:
        raise UsageError(f"{option}: say {t}% for a percentage, or give a size such as {t}KiB")
    return ("size", parse_size(t, option))
