"""Site labels: the frame of an allocation stack a user recognises as their
own code, and names short enough for a table.

A site's label is its first frame (innermost first) that is none of:

* an allocator: the malloc family and every operator new/delete (the
  replacements memtrack's and DHAT's preloads put first in every stack),
  and any function a --alloc-fn pattern names;
* the C++ or Rust standard library: names in std::, __gnu_cxx::,
  __cxxabiv1::, alloc::, core::, hashbrown:: (Rust's std holds it),
  <alloc::...>/<core::...>/<std::...> trait impls, Rust's allocator shims
  (__rust_alloc, __rdl_alloc, __rg_alloc and co.), and frames inlined from
  the standard headers (their names are unqualified in the debug
  information: "allocate (new_allocator.h:137)");
* the C library: the functions that allocate on a caller's behalf
  (strdup, getline, fopen, ...), and the names C reserves for the
  implementation (a leading "__", or "_" and a capital letter:
  __libc_malloc, _IO_file_doallocate, _dl_new_object);
* a frame without source (no file:line) in a system library, an object
  under /lib, /usr/lib or /usr/libexec: code the user did not write and
  cannot look at.

When that frame has no name (a stripped program: "??? (in /usr/bin/x)")
the label is the library function it called, the nearest named frame
inside it that is not the library's own allocator wrapper (a name with
"alloc" in it, any case):
sqlite3's shell, stripped, calling libsqlite3 (no source) gets
"sqlite3_exec (in libsqlite3.so.0)", the library's entry point, not its
allocator wrapper sqlite3Malloc. When every frame is skipped (a stack cut
short by --num-callers inside a library), the label is the outermost
named frame that is not an allocator: the closest the stack came to the
user's code.

Patterns (--alloc-fn, --ignore-fn) are Valgrind's wildcards, as in
suppressions and the tool's own options: '*' any run of characters, '?'
one. A pattern matches a function name as
Valgrind prints it ("mylib::pool_get(unsigned long)") or that name without
its parameter list ("mylib::pool_get").

--ignore-fn is massif's: an allocation is left out when the first frame
with a name after the allocator frames (the replacements, massif's list
and --alloc-fn) matches.
"""
import re
from collections import namedtuple

from .fmt import clean

Frame = namedtuple("Frame", "text fn file line obj addr in_std", defaults=(None, False))
Label = namedtuple("Label", "index frame text short full")

# "0x4012AB: fn (file:line)", "0x4012AB: fn (in /path/obj)", "0x4012AB: ???"
_FRAME = re.compile(r"^(?:(?P<addr>0x[0-9A-Fa-f]+): )?(?P<fn>.*?)"
                    r"(?: \((?:in (?P<obj>[^()]*)|(?P<file>[^()]*?):(?P<line>\d+))\))?$",
                    re.S)


def parse_frame(text):
    m = _FRAME.match(text)
    fn, file, line, obj = m.group("fn"), m.group("file"), m.group("line"), m.group("obj")
    return Frame(text, fn, file, int(line) if line else None, obj, m.group("addr"))


def parse_stack(frames, rules=None):
    """The frames parsed, each knowing whether it was inlined into a
    standard library function: calls inlined at one address share it, the
    last of them being the function they were inlined into. A Rust call
    inlined from another file than that function's counts as the
    library's too: the debug information names Rust's inlined calls without
    their path, and only the tool knows their directories; a call inlined
    from another of the user's files then gives way to the user's function
    it was inlined into."""
    parsed = [parse_frame(t) for t in frames]
    out, i = [], 0
    while i < len(parsed):
        j = i
        while j + 1 < len(parsed) and parsed[i].addr and parsed[j + 1].addr == parsed[i].addr:
            j += 1
        owner = parsed[j]
        owner_std = j > i and skip_reason(owner, rules or DEFAULT) == "std"
        for k in range(i, j + 1):
            f = parsed[k]
            foreign = (k < j and f.file and f.file.endswith(".rs") and owner.file
                       and _base(f.file) != _base(owner.file))
            out.append(f._replace(in_std=owner_std or bool(foreign)))
        i = j + 1
    return out


# ---------------------------------------------------------------------------
# Patterns


def glob_regex(pattern):
    """Valgrind's VG_(string_match) as a regular expression: '*' any run of
    characters, '?' any one; nothing escapes them."""
    out = [".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern]
    return re.compile("".join(out) + r"\Z", re.S)


class Patterns:
    def __init__(self, patterns=()):
        self.texts = list(patterns)
        self._res = [glob_regex(p) for p in self.texts]

    def __bool__(self):
        return bool(self._res)

    def match(self, fn):
        if not self._res or not fn:
            return False
        bare = drop_params(fn)
        return any(r.match(fn) or (bare != fn and r.match(bare)) for r in self._res)


class Rules:
    """What a label skips beyond the built-in rules: --alloc-fn patterns
    (more allocators), and --ignore-fn patterns (sites left out)."""

    def __init__(self, alloc_fns=(), ignore_fns=()):
        self.alloc = Patterns(alloc_fns)
        self.ignore = Patterns(ignore_fns)


DEFAULT = Rules()


def add_rule_options(parser):
    """--alloc-fn and --ignore-fn, each repeatable, as the tool takes them."""
    parser.add_argument("--alloc-fn", action="append", default=[], metavar="PATTERN",
                        help="a function (Valgrind's wildcards * and ?) that is an allocator: "
                             "site labels and --ignore-fn look past it; repeatable")
    parser.add_argument("--ignore-fn", action="append", default=[], metavar="PATTERN",
                        help="leave out the sites whose first named frame after the "
                             "allocators matches (massif's --ignore-fn); repeatable")


def rules_of(args):
    return Rules(args.alloc_fn, args.ignore_fn)


# ---------------------------------------------------------------------------
# Built-in rules

# The rules' lists, in Valgrind's wildcards: the same lists as the tool's
# (memtrack/mt_label.cpp), so the scripts and the tool's SARIF file name
# the same frame.

# The allocator replacements, massif's list of allocation functions and
# Rust's allocator shims.
ALLOCATORS = (
    "malloc", "calloc", "realloc", "reallocarray", "free", "cfree", "memalign", "posix_memalign",
    "aligned_alloc", "valloc", "pvalloc", "malloc_usable_size", "free_sized", "free_aligned_sized",
    "__builtin_new", "__builtin_vec_new", "__builtin_delete", "__builtin_vec_delete", "operator new*",
    "operator delete*", "_vgr*", "__rust_alloc", "__rust_alloc_zeroed", "__rust_realloc",
    "__rust_dealloc", "__rdl_alloc", "__rdl_alloc_zeroed", "__rdl_realloc", "__rdl_dealloc",
    "__rg_alloc", "__rg_alloc_zeroed", "__rg_realloc", "__rg_dealloc")
# massif's own list (ms_main.c, init_alloc_fns), for --ignore-fn.
MASSIF_ALLOC_FNS = (
    "malloc", "__builtin_new", "operator new(unsigned)", "operator new(unsigned long)",
    "__builtin_vec_new", "operator new[](unsigned)", "operator new[](unsigned long)",
    "calloc", "realloc", "memalign", "posix_memalign", "valloc",
    "operator new(unsigned, std::nothrow_t const&)",
    "operator new[](unsigned, std::nothrow_t const&)",
    "operator new(unsigned long, std::nothrow_t const&)",
    "operator new[](unsigned long, std::nothrow_t const&)")
# Namespaces of the C++ and Rust standard libraries (a qualified name's start).
STD_PREFIXES = ("std::", "__gnu_cxx::", "__cxxabiv1::", "__gnu_debug::", "__pstl::",
                "__detail::", "alloc::", "core::", "hashbrown::", "std_detect::")
# Headers of the C++ standard library: calls inlined from them carry
# unqualified names in the debug information ("allocate", "push_back").
STD_HEADERS = (
    "new_allocator.h", "alloc_traits.h", "allocator.h", "stl_*.h", "*.tcc", "basic_string.h",
    "cow_string.h", "char_traits.h", "shared_ptr*.h", "unique_ptr.h", "hashtable*.h",
    "std_function.h", "functional_hash.h", "move.h", "invoke.h", "refwrap.h", "ptr_traits.h",
    "node_handle.h", "uses_allocator.h", "std_thread.h", "regex*.h", "atomic_base.h",
    "locale_*.h", "ios_base.h", "basic_ios.h", "streambuf_iterator.h", "string_view.h",
    "range_access.h", "memory_resource.h", "allocated_ptr.h", "aligned_buffer.h",
    # the extensionless standard headers
    "functional", "vector", "string", "memory", "map", "unordered_map", "set", "unordered_set",
    "deque", "list", "forward_list", "sstream", "fstream", "iostream", "istream", "ostream",
    "algorithm", "thread", "future", "mutex", "any", "optional", "variant", "tuple", "utility",
    "bitset", "regex", "iomanip", "locale", "array", "queue", "stack", "format", "new",
    "streambuf", "string_view", "charconv", "chrono", "filesystem", "condition_variable",
    "valarray", "numeric", "random", "span", "ranges", "typeinfo", "system_error", "stdexcept",
    "exception", "complex", "atomic", "memory_resource", "scoped_allocator", "iterator", "ios")
# Rust's standard library sources by file name, for calls inlined from them
# (unqualified names such as "push<i32, alloc::alloc::Global>").
RUST_STD_FILES = (
    "raw_vec.rs", "alloc.rs", "boxed.rs", "spec_from_elem.rs", "spec_extend.rs",
    "spec_from_iter*.rs", "in_place_collect.rs", "into_iter.rs", "set_len_on_drop.rs", "rc.rs",
    "sync.rs", "borrow.rs", "layout.rs", "non_null.rs", "unique.rs", "const_ptr.rs",
    "mut_ptr.rs", "accum.rs", "intrinsics.rs", "global.rs", "panicking.rs", "map.rs")
# Functions of the C library that allocate on their caller's behalf.
LIBC = (
    "strdup", "strndup", "wcsdup", "asprintf", "vasprintf", "getline", "getdelim", "fopen",
    "fopen64", "fdopen", "freopen", "freopen64", "open_memstream", "open_wmemstream", "fmemopen",
    "tmpfile", "tmpfile64", "popen", "realpath", "canonicalize_file_name",
    "get_current_dir_name", "getcwd", "scandir", "scandir64", "scandirat", "opendir",
    "fdopendir", "qsort", "qsort_r", "msort_with_tmp", "setlocale", "newlocale", "duplocale",
    "tsearch", "tfind", "hsearch_r", "hcreate", "hcreate_r", "regcomp", "regexec", "glob",
    "glob64", "wordexp", "getaddrinfo", "getpwnam", "getpwuid", "getgrnam", "getgrgid",
    "initgroups", "backtrace_symbols", "setvbuf", "setbuf", "printf", "fprintf", "vfprintf",
    "dprintf", "puts", "fputs", "fputc", "putc", "putchar", "fwrite", "fread", "fgets", "fgetc",
    "getc", "getchar", "fflush", "fseek", "ftell", "fclose", "scanf", "fscanf", "sscanf",
    "vfscanf", "iconv_open", "catopen", "bindtextdomain", "textdomain", "gettext", "dcgettext",
    "dgettext", "ngettext", "putenv", "setenv", "atexit", "on_exit", "pthread_create",
    "pthread_key_create", "pthread_setspecific", "timer_create", "obstack_begin", "argz_add",
    "argz_create", "envz_add", "strerror", "localtime", "localtime_r", "gmtime", "mktime",
    "tzset", "ctime", "strftime", "dlopen", "dlsym", "dlerror", "dlclose", "getenv",
    # the dynamic linker's, seen with its debug information (libc6-dbg)
    "call_init", "call_fini", "dl_main", "dl_open_worker*", "do_lookup_x", "openaux")
# Objects of the system: code the user did not write.
SYSTEM_OBJECTS = ("/lib/*", "/usr/lib/*", "/lib32/*", "/lib64/*", "/libx32/*", "/usr/lib32/*",
                  "/usr/lib64/*", "/usr/libx32/*", "/usr/libexec/*")


def _any(patterns):
    return re.compile("|".join(f"(?:{glob_regex(p).pattern})" for p in patterns), re.S)


_ALLOCATORS = _any(ALLOCATORS)
_STD_HEADERS = _any(STD_HEADERS)
_RUST_STD_FILES = _any(RUST_STD_FILES)
_LIBC = _any(LIBC)
_SYSTEM_OBJECT = _any(SYSTEM_OBJECTS)
_STD_PREFIXES = STD_PREFIXES
_PRELOAD = re.compile(r"/vgpreload_")
_ALLOC_GLOBAL = re.compile(r"alloc::alloc::Global")


def drop_params(fn):
    """A C++ name without its parameter list and what follows it."""
    i = _params_start(fn)
    return fn[:i] if i is not None else fn


def _params_start(fn):
    """Index of the '(' that opens the parameter list of a demangled C++
    name (the last '(' at depth 0 not part of an operator's name), or None."""
    depth, last = 0, None
    i = 0
    while i < len(fn):
        c = fn[i]
        if fn.startswith("operator", i) and (i == 0 or not (fn[i - 1].isalnum() or fn[i - 1] == "_")):
            j = i + len("operator")
            if fn.startswith("()", j):
                i = j + 2
                continue
            if j < len(fn) and not (fn[j].isalnum() or fn[j] == "_"):
                # operator<, operator<<, operator->, operator new ...
                k = j
                while k < len(fn) and fn[k] in " <>=!+-*/%^&|~,[]":
                    k += 1
                i = max(k, j + 1)
                continue
        if c in "<[{":
            depth += 1
        elif c in ">]}":
            depth -= 1
        elif c == "(":
            if depth == 0 and i > 0 and fn[i - 1] not in " :(":
                last = i
            depth += 1
        elif c == ")":
            depth -= 1
        i += 1
    return last


def _qualified(fn):
    """The function's qualified name: without a template function's return
    type ("void std::vector<...>::f<...>" is std::'s) and parameters."""
    if _params_start(fn) is None:
        return fn  # no parameter list: no return type either (C, Rust)
    head = drop_params(fn)
    tokens, depth, start = [], 0, 0
    for i, c in enumerate(head):
        if c in "<([{":
            depth += 1
        elif c in ">)]}":
            depth -= 1
        elif c == " " and depth == 0:
            tokens.append(head[start:i])
            start = i + 1
    tokens.append(head[start:])
    k = len(tokens) - 1
    while k > 0 and _OPERATOR_TOKEN.search(tokens[k - 1]):
        k -= 1
    return " ".join(tokens[k:])


# "operator", "ns::operator" and 'operator""' (a literal operator) before
# a space: the space is inside the name.
_OPERATOR_TOKEN = re.compile(r'(?:^|::)operator(?:""|[^\w\s]*)$')


def _std_name(q):
    if q.startswith(_STD_PREFIXES):
        return True
    if q.startswith("<"):
        # Rust: "<T as Trait>::f" is std's when T is a std type, or a type
        # parameter in a std trait's blanket impl.
        depth = 0
        for i, c in enumerate(q):
            if c == "<":
                depth += 1
            elif c == ">":
                depth -= 1
                if depth == 0:
                    inner = q[1:i]
                    break
        else:
            inner = q[1:]
        self_ty, _, trait = inner.partition(" as ")
        self_ty = self_ty.lstrip("&*").replace("mut ", "").replace("const ", "").lstrip("[")
        if self_ty.startswith(_STD_PREFIXES):
            return True
        return "::" not in self_ty and trait.startswith(_STD_PREFIXES)
    return False


def is_allocator(f, rules=DEFAULT):
    fn = f.fn
    if f.obj and _PRELOAD.search(f.obj):
        return True
    if _ALLOCATORS.match(fn):
        return True
    return rules.alloc.match(fn)


def _base(path):
    return path.rsplit("/", 1)[-1]


def _scoped(q):
    """Whether a name has a path ('::' outside its template arguments)."""
    depth = 0
    for i, c in enumerate(q):
        if c in "<([{":
            depth += 1
        elif c in ">)]}":
            depth -= 1
        elif c == ":" and depth == 0 and q.startswith("::", i):
            return True
    return False


def _reserved(fn):
    return (len(fn) > 1 and fn[0] == "_" and (fn[1] == "_" or fn[1].isupper())
            and not fn.startswith(("_Z", "_R")))


def skip_reason(f, rules=DEFAULT):
    """Why a frame is not the user's code (a word), or None if it is."""
    if is_allocator(f, rules):
        return "allocator"
    fn = f.fn
    if fn == "(below main)":
        return "libc"
    q = _qualified(fn)
    if _std_name(q):
        return "std"
    if f.in_std and not _scoped(q):
        return "std"  # inlined into the standard library, and no path of its own
    if f.file:
        base = f.file.rsplit("/", 1)[-1]
        rust = base.endswith(".rs")
        if not rust and _STD_HEADERS.match(base):
            return "std"
        if rust and not _scoped(q) and (_RUST_STD_FILES.match(base) or _ALLOC_GLOBAL.search(fn)):
            return "std"
    if _LIBC.match(q) or (_reserved(q) and (f.file or not f.obj or _SYSTEM_OBJECT.match(f.obj))):
        return "libc"
    if f.line is None and f.obj and _SYSTEM_OBJECT.match(f.obj):
        return "system"
    return None


def _named(f):
    return f.fn and f.fn != "???"


def _namer(f, rules):
    """Whether a skipped frame may name a site: it has a name, is no
    allocator, and is not a library's own allocator wrapper (a frame
    without source in a system library whose name says it allocates:
    sqlite3Malloc, sqlite3DbMallocRaw, g_malloc, xmlMallocAtomic)."""
    if not _named(f) or is_allocator(f, rules):
        return False
    return not (skip_reason(f, rules) == "system" and "alloc" in drop_params(f.fn).lower())


def label(frames, rules=DEFAULT):
    """The site's Label: index of the frame in frames (-1 for no frames),
    the parsed frame, the text (function and location, no address), the
    short form for tables and the full text."""
    parsed = parse_stack(frames, rules)
    idx = None
    for i, f in enumerate(parsed):
        if skip_reason(f, rules) is None:
            idx = i
            if not _named(f):
                # A stripped program: the library function it called, the
                # nearest named frame inside it.
                inner = [j for j in range(i) if _namer(parsed[j], rules)]
                if inner:
                    idx = inner[-1]
            break
    if idx is None:
        named = [i for i, f in enumerate(parsed) if _namer(f, rules)]
        idx = named[-1] if named else (0 if parsed else -1)
    if idx < 0:
        return Label(-1, None, "(no frames)", "(no frames)", "(no frames)")
    f = parsed[idx]
    return Label(idx, f, frame_text(f), frame_text(f, short=True), frame_text(f))


def ignored(frames, rules=DEFAULT):
    """massif's --ignore-fn: whether the first named frame after the
    allocator frames matches an --ignore-fn pattern."""
    if not rules.ignore:
        return False
    for t in frames:
        f = parse_frame(t)
        if is_allocator(f, rules) or f.fn in MASSIF_ALLOC_FNS:
            continue
        if _named(f):
            return rules.ignore.match(f.fn)
    return False


# ---------------------------------------------------------------------------
# Names as shown


def frame_text(f, short=False):
    """'fn (file:line)' or 'fn (in obj)'; short: the function shortened and
    an object by its file name only."""
    fn = shorten(f.fn) if short else f.fn
    if f.file is not None:
        return f"{fn} ({f.file}:{f.line})"
    if f.obj:
        return f"{fn} (in {f.obj.rsplit('/', 1)[-1] if short else f.obj})"
    return fn


def shorten(fn):
    """A C++ or Rust name folded as heaptrack folds it: template arguments
    become '<>', the parameter list '()' (or '(...)' when it had any), a
    function template's return type and trailing qualifiers go. Rust's
    '<T as Trait>' paths keep their two names, each folded."""
    if not fn or fn.startswith("(below main)") or fn == "???":
        return fn
    q = _qualified(fn)
    params = _params_start(fn)
    has_params = params is not None and fn[params + 1:params + 2] != ")"
    q = re.sub(r"::h[0-9a-f]{16}$", "", q)  # a Rust legacy hash
    return _fold(q) + ("" if params is None else "(\u2026)" if has_params else "()")


def _fold(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if s.startswith("operator", i) and (i == 0 or not (s[i - 1].isalnum() or s[i - 1] == "_")):
            j = i + len("operator")
            k = j
            while k < len(s) and s[k] in " <>=!+-*/%^&|~,[]()":
                if s[k] == "(" and s.startswith("()", k):
                    k += 2
                    break
                k += 1
            # "operator new" and co.: the word too
            m = re.match(r"(new|delete)(\[\])?", s[k:])
            if m and s[j:k].strip() == "":
                k += m.end()
            out.append(s[i:k])
            i = k
            continue
        if c == "<":
            prev = s[i - 1] if i else ""
            # After a name: template arguments, folded. At the start of a
            # path component: a Rust qualified path, kept (folded inside).
            j, depth = i, 0
            while j < len(s):
                if s[j] == "<":
                    depth += 1
                elif s[j] == ">":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if prev and (prev.isalnum() or prev in "_>"):
                out.append("<>")
            else:
                out.append("<" + _fold(s[i + 1:j]) + ">")
            i = j + 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def annotate(prof, rules=DEFAULT):
    """Gives each site of a Profile its 'label' and leaves out the sites
    --ignore-fn ignores (their figures no longer count anywhere, as
    massif's). Returns how many sites were left out."""
    kept = []
    for s in prof.sites:
        if ignored(s["frames"], rules):
            continue
        s["label"] = label(s["frames"], rules)
        kept.append(s)
    gone = len(prof.sites) - len(kept)
    prof.sites = kept
    prof.ignored_sites = gone
    return gone


def site_name(s, verbose=False):
    """A site's name where one line names it: its label, short unless
    verbose."""
    lb = s.get("label") or label(s["frames"])
    return clean(lb.full if verbose else lb.short)
