"""Numbers, units, plurals and frames as the scripts write them."""
import re

RULE = "-" * 80


def commas(n):
    """12,345; a fraction to one place: 12.5."""
    if isinstance(n, float) and not n.is_integer():
        return f"{n:,.1f}"
    return f"{int(n):,}"


def pct(a, b):
    return f"{100.0 * a / b:.2f}%" if b else "-"


_BINARY = (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10))


def human(n):
    """A byte count with a binary unit: 12.16 KiB."""
    for unit, size in _BINARY:
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} B"


def axis_unit(n, kind, instrs="instrs"):
    """(divisor, unit) for an axis whose largest value is n, of a massif
    time unit kind (B: bytes, ms, i: instructions, called instrs)."""
    if kind == "B":
        choices, base = tuple((size, unit) for unit, size in _BINARY), (1, "B")
    elif kind == "ms":
        choices, base = ((1000, "s"),), (1, "ms")
    else:
        choices = ((10 ** 9, f"G {instrs}"), (10 ** 6, f"M {instrs}"), (10 ** 3, f"k {instrs}"))
        base = (1, instrs)
    for size, unit in choices:
        if n >= size:
            return size, unit
    return base


def plural(n, one, many=None):
    return one if n == 1 else (many or one + "s")


def qty(n, unit):
    """'1 block', '3 blocks', '1 byte'; unit is the plural."""
    return f"{commas(n)} {unit[:-1] if n == 1 and unit.endswith('s') else unit}"


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean(s):
    """Text from a file, made safe for a terminal: control characters are
    shown as \\xNN."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", s)


# ---------------------------------------------------------------------------
# Frames ("0x4012AB: main (app.c:12)", innermost first)

_ADDRESS = re.compile(r"^0x[0-9A-Fa-f]+: ")
_LINE = re.compile(r":\d+\)$")


def strip_address(frame):
    """The frame without its '0x...: ' address (it moves with every build
    and with address-space randomisation)."""
    return _ADDRESS.sub("", frame)


def site_key(frames, match="frames", depth=0):
    """What identifies a site across two runs: its frames without the
    addresses; match='functions' also drops line numbers; depth>0 keeps
    the innermost depth frames."""
    out = []
    for f in frames[:depth] if depth else frames:
        f = strip_address(f)
        if match == "functions":
            f = _LINE.sub(")", f)
        out.append(f)
    return tuple(out)


def frame_lines(frames, limit, indent="    "):
    """A stack as lines 'at f' then 'by g', at most limit frames (0: all)."""
    out = []
    shown = frames if not limit else frames[:limit]
    for i, f in enumerate(shown):
        out.append(f"{indent}{'at' if i == 0 else 'by'} {clean(f)}")
    if len(frames) > len(shown):
        out.append(f"{indent}... {len(frames) - len(shown)} more "
                   f"{plural(len(frames) - len(shown), 'frame')} (--frames=0 shows all)")
    if not frames:
        out.append(f"{indent}(no frames)")
    return out
