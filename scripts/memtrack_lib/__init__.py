"""memtrack_lib: what memtrack's scripts (memtrack_print, memtrack_diff,
memtrack_report, memtrack_export) share, so that a file reads the same, a figure has the
same name and a bad option or input gives the same one line in all of them.

    cli       the argument and error conventions: InputError, UsageError,
              fail(), Parser (one-line errors, exit status 2), the parsers
              of counts, sizes and lists, setup_output(), version()
    readers   the two readers: load_profile() (DHAT's JSON format,
              version 2, plus memtrack's keys, checked key by key) and
              load_massif() (massif's text format, read as ms_print reads
              it)
    tables    the profile's keys, the leak kinds, the metrics a site can be
              sorted by and what a profile needs to have each
    fmt       numbers, units, plurals, frames, text made safe for a terminal
    labels    site labels (the first frame in the program's own code),
              --alloc-fn/--ignore-fn, short C++ and Rust names
    functions a frame's function, a site's name (site_name: the one
              naming of a site), the caller/callee table, a site's
              temporary and short-lived blocks
    report.css, report.js
              memtrack_report's page style and script, which it inlines

A script finds this folder beside itself in the source tree; make install
puts it in $(pkgdatadir) and writes the way there, relative to the
installed script, into the script's LIBDIR line (Makefile.am). Python 3
standard library only; nothing here writes bytecode (the scripts set
sys.dont_write_bytecode before they import it).
"""
import os

VERSION = "0.1.0"


def resource(name):
    """The text of a file of this folder (report.css, report.js)."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), name),
              encoding="utf-8") as f:
        return f.read()
