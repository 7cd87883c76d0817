// Site labels (see mt_label.h): the rules are lists of Valgrind wildcard
// patterns (VG_(string_match): '*' and '?'), the same lists as
// scripts/memtrack_lib/labels.py holds, so a profile labelled by the
// scripts and the SARIF file of the same run name the same frame.
//
// Frames come from VG_(describe_IP) in its XML form, the one public way to
// the directory, file and line of an inlined call (VG_(get_filename_linenum)
// knows only the outermost function at an address). Labels are made only
// when a file is written (SARIF results, the massif file's trees, once per
// stack), never on the allocation path.
#include "mt_label.h"
#include "mt_options.h"

extern "C" Bool VG_(string_match)(const HChar* pat, const HChar* str);

namespace mt::label {

namespace {

// The allocator replacements, massif's list of allocation functions
// (ms_main.c's init_alloc_fns) and Rust's allocator shims.
const char* const kAllocators[] = {
    "malloc", "calloc", "realloc", "reallocarray", "free", "cfree", "memalign", "posix_memalign",
    "aligned_alloc", "valloc", "pvalloc", "malloc_usable_size", "free_sized", "free_aligned_sized",
    "__builtin_new", "__builtin_vec_new", "__builtin_delete", "__builtin_vec_delete", "operator new*",
    "operator delete*", "_vgr*", "__rust_alloc", "__rust_alloc_zeroed", "__rust_realloc", "__rust_dealloc",
    "__rdl_alloc", "__rdl_alloc_zeroed", "__rdl_realloc", "__rdl_dealloc", "__rg_alloc", "__rg_alloc_zeroed",
    "__rg_realloc", "__rg_dealloc",
};

// Namespaces of the C++ and Rust standard libraries (a qualified name's start).
const char* const kStdPrefixes[] = {
    "std::",   "__gnu_cxx::", "__cxxabiv1::", "__gnu_debug::", "__pstl::", "__detail::",
    "alloc::", "core::",      "hashbrown::",  "std_detect::",
};

// Headers of the C++ standard library: calls inlined from them carry
// unqualified names in the debug information ("allocate", "push_back").
const char* const kStdHeaders[] = {
    "new_allocator.h", "alloc_traits.h", "allocator.h", "stl_*.h", "*.tcc", "basic_string.h", "cow_string.h",
    "char_traits.h", "shared_ptr*.h", "unique_ptr.h", "hashtable*.h", "std_function.h", "functional_hash.h",
    "move.h", "invoke.h", "refwrap.h", "ptr_traits.h", "node_handle.h", "uses_allocator.h", "std_thread.h",
    "regex*.h", "atomic_base.h", "locale_*.h", "ios_base.h", "basic_ios.h", "streambuf_iterator.h",
    "string_view.h", "range_access.h", "memory_resource.h", "allocated_ptr.h", "aligned_buffer.h",
    // the extensionless standard headers
    "functional", "vector", "string", "memory", "map", "unordered_map", "set", "unordered_set", "deque", "list",
    "forward_list", "sstream", "fstream", "iostream", "istream", "ostream", "algorithm", "thread", "future",
    "mutex", "any", "optional", "variant", "tuple", "utility", "bitset", "regex", "iomanip", "locale", "array",
    "queue", "stack", "format", "new", "streambuf", "string_view", "charconv", "chrono", "filesystem",
    "condition_variable", "valarray", "numeric", "random", "span", "ranges", "typeinfo", "system_error",
    "stdexcept", "exception", "complex", "atomic", "memory_resource", "scoped_allocator", "iterator", "ios",
};

// Rust's standard library sources by file name, for calls inlined from
// them (unqualified names such as "push<i32, alloc::alloc::Global>"); the
// tool also knows them by directory (kRustStdDirs).
const char* const kRustStdFiles[] = {
    "raw_vec.rs", "alloc.rs", "boxed.rs", "spec_from_elem.rs", "spec_extend.rs", "spec_from_iter*.rs",
    "in_place_collect.rs", "into_iter.rs", "set_len_on_drop.rs", "rc.rs", "sync.rs", "borrow.rs", "layout.rs",
    "non_null.rs", "unique.rs", "const_ptr.rs", "mut_ptr.rs", "accum.rs", "intrinsics.rs", "global.rs",
    "panicking.rs", "map.rs",
};
const char* const kRustStdDirs[] = {"*/library/alloc/src*", "*/library/core/src*", "*/library/std/src*",
                                    "*/hashbrown*/src*"};

// Functions of the C library that allocate on their caller's behalf.
const char* const kLibcFns[] = {
    "strdup", "strndup", "wcsdup", "asprintf", "vasprintf", "getline", "getdelim", "fopen", "fopen64", "fdopen",
    "freopen", "freopen64", "open_memstream", "open_wmemstream", "fmemopen", "tmpfile", "tmpfile64", "popen",
    "realpath", "canonicalize_file_name", "get_current_dir_name", "getcwd", "scandir", "scandir64", "scandirat",
    "opendir", "fdopendir", "qsort", "qsort_r", "msort_with_tmp", "setlocale", "newlocale", "duplocale",
    "tsearch", "tfind", "hsearch_r", "hcreate", "hcreate_r", "regcomp", "regexec", "glob", "glob64", "wordexp",
    "getaddrinfo", "getpwnam", "getpwuid", "getgrnam", "getgrgid", "initgroups", "backtrace_symbols", "setvbuf",
    "setbuf", "printf", "fprintf", "vfprintf", "dprintf", "puts", "fputs", "fputc", "putc", "putchar", "fwrite",
    "fread", "fgets", "fgetc", "getc", "getchar", "fflush", "fseek", "ftell", "fclose", "scanf", "fscanf",
    "sscanf", "vfscanf", "iconv_open", "catopen", "bindtextdomain", "textdomain", "gettext", "dcgettext",
    "dgettext", "ngettext", "putenv", "setenv", "atexit", "on_exit", "pthread_create", "pthread_key_create",
    "pthread_setspecific", "timer_create", "obstack_begin", "argz_add", "argz_create", "envz_add", "strerror",
    "localtime", "localtime_r", "gmtime", "mktime", "tzset", "ctime", "strftime", "dlopen", "dlsym", "dlerror",
    "dlclose", "getenv",
    // the dynamic linker's, seen with its debug information (libc6-dbg)
    "call_init", "call_fini", "dl_main", "dl_open_worker*", "do_lookup_x", "openaux",
};

// Objects of the system: code the user did not write.
const char* const kSystemObjects[] = {"/lib/*", "/usr/lib/*", "/lib32/*", "/lib64/*", "/libx32/*",
                                      "/usr/lib32/*", "/usr/lib64/*", "/usr/libx32/*", "/usr/libexec/*"};

template <SizeT N> bool any_match(const char* const (&pats)[N], const HChar* s) {
  for (const char* p : pats)
    if (VG_(string_match)(p, s)) return true;
  return false;
}

bool starts_with(const HChar* s, const HChar* prefix) { return VG_(strncmp)(s, prefix, VG_(strlen)(prefix)) == 0; }

template <SizeT N> bool any_prefix(const char* const (&pfx)[N], const HChar* s) {
  for (const char* p : pfx)
    if (starts_with(s, p)) return true;
  return false;
}

bool ident_char(HChar c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Where the parameter list of a demangled name opens: the last '(' at
// depth 0 that follows a name (not "operator()"'s, not "(anonymous
// namespace)"), or -1.
Long params_start(const HChar* fn) {
  Long last = -1;
  int depth = 0;
  for (Long i = 0; fn[i];) {
    if (starts_with(fn + i, "operator") && (i == 0 || !ident_char(fn[i - 1]))) {
      Long j = i + 8;
      if (fn[j] == '(' && fn[j + 1] == ')') { i = j + 2; continue; }
      if (fn[j] && !ident_char(fn[j])) {
        Long k = j;
        while (fn[k] && VG_(strchr)(" <>=!+-*/%^&|~,[]", fn[k])) k++;
        i = k > j ? k : j + 1;
        continue;
      }
    }
    HChar c = fn[i];
    if (c == '<' || c == '[' || c == '{') depth++;
    else if (c == '>' || c == ']' || c == '}') depth--;
    else if (c == '(') {
      if (depth == 0 && i > 0 && fn[i - 1] != ' ' && fn[i - 1] != ':' && fn[i - 1] != '(') last = i;
      depth++;
    } else if (c == ')') depth--;
    i++;
  }
  return last;
}

// Whether the token [a, b) ends in "operator" (after "::" or alone),
// perhaps with an operator's symbols or a literal operator's "": the space
// after it is inside the name ("operator new", 'operator"" _kb').
bool operator_token(const HChar* a, const HChar* b) {
  const HChar* e = b;
  while (e > a && !ident_char(e[-1]) && e[-1] != ' ') e--;
  if (e - a < 8 || VG_(strncmp)(e - 8, "operator", 8) != 0) return false;
  const HChar* o = e - 8;
  return o == a || (o - a >= 2 && o[-1] == ':' && o[-2] == ':');
}

// The qualified name: without parameters and without a function
// template's return type ("void std::vector<...>::f<...>" is std::'s).
void qualified(const HChar* fn, StrBuf* out) {
  Long end = params_start(fn);
  out->clear();
  if (end < 0) {  // no parameter list: no return type either (C, Rust)
    out->append(fn);
    return;
  }
  // The last top-level space before end, not one inside "operator new".
  Long start = 0;
  int depth = 0;
  for (Long i = 0; i < end; i++) {
    HChar c = fn[i];
    if (c == '<' || c == '(' || c == '[' || c == '{') depth++;
    else if (c == '>' || c == ')' || c == ']' || c == '}') depth--;
    else if (c == ' ' && depth == 0 && !operator_token(fn + start, fn + i)) start = i + 1;
  }
  out->append(fn + start, (SizeT)(end - start));
}

// Rust's "<T as Trait>::f" is the standard library's when T is one of its
// types, or a type parameter in a blanket impl of one of its traits.
bool rust_std_impl(const HChar* q) {
  if (q[0] != '<') return false;
  int depth = 0;
  SizeT close = 0;
  for (SizeT i = 0; q[i]; i++) {
    if (q[i] == '<') depth++;
    else if (q[i] == '>' && --depth == 0) { close = i; break; }
  }
  if (!close) return false;
  const HChar* self = q + 1;
  while (*self == '&' || *self == '*' || *self == '[') self++;
  if (starts_with(self, "mut ")) self += 4;
  if (starts_with(self, "const ")) self += 6;
  if (any_prefix(kStdPrefixes, self)) return true;
  const HChar* as = VG_(strstr)(q, " as ");
  if (!as || as > q + close) return false;
  for (const HChar* p = self; p < as; p++)
    if (p[0] == ':' && p[1] == ':') return false;
  return any_prefix(kStdPrefixes, as + 4);
}

bool reserved(const HChar* fn) {
  return fn[0] == '_' && (fn[1] == '_' || (fn[1] >= 'A' && fn[1] <= 'Z')) && !starts_with(fn, "_Z") &&
         !starts_with(fn, "_R");
}

const HChar* base_name(const HChar* path) {
  const HChar* slash = VG_(strrchr)(path, '/');
  return slash ? slash + 1 : path;
}

// Whether a name has a path: "::" outside its template arguments.
bool has_scope(const HChar* q) {
  int depth = 0;
  for (const HChar* p = q; *p; p++) {
    if (*p == '<' || *p == '(' || *p == '[' || *p == '{') depth++;
    else if (*p == '>' || *p == ')' || *p == ']' || *p == '}') depth--;
    else if (depth == 0 && p[0] == ':' && p[1] == ':') return true;
  }
  return false;
}

// A pattern list matches fn as printed or without its parameter list.
bool patterns_match(const FnPatterns& pats, const HChar* fn) {
  if (!pats.n || !fn) return false;
  for (UInt i = 0; i < pats.n; i++)
    if (VG_(string_match)(pats.item[i], fn)) return true;
  Long p = params_start(fn);
  if (p < 0) return false;
  StrBuf bare;
  bare.init("mt.label.bare");
  bare.append(fn, (SizeT)p);
  bool hit = false;
  for (UInt i = 0; i < pats.n && !hit; i++) hit = VG_(string_match)(pats.item[i], bare.c_str());
  bare.free();
  return hit;
}

// ---- frames from describe_IP's XML ------------------------------------------

// The text of <tag>...</tag> in xml, unescaped, appended to out (with its
// NUL); the offset of its start in out, or -1 when absent.
Long take(const HChar* xml, const HChar* tag, StrBuf* out) {
  char open[16], close[16];
  VG_(snprintf)(open, sizeof open, "<%s>", tag);
  VG_(snprintf)(close, sizeof close, "</%s>", tag);
  const HChar* a = VG_(strstr)(xml, open);
  if (!a) return -1;
  a += VG_(strlen)(open);
  const HChar* b = VG_(strstr)(a, close);
  if (!b) return -1;
  Long at = (Long)out->len();
  for (const HChar* p = a; p < b; p++) {
    if (*p == '&') {
      if (starts_with(p, "&amp;")) { out->append_char('&'); p += 4; continue; }
      if (starts_with(p, "&lt;")) { out->append_char('<'); p += 3; continue; }
      if (starts_with(p, "&gt;")) { out->append_char('>'); p += 3; continue; }
      if (starts_with(p, "&quot;")) { out->append_char('"'); p += 5; continue; }
      if (starts_with(p, "&apos;")) { out->append_char('\''); p += 5; continue; }
    }
    out->append_char(*p);
  }
  out->append_char(0);
  return at;
}

// The frame at ip (inlined call at cursor c, or with c null the function
// itself) into b: fn, dir, file, line, obj, each NUL-terminated, at the
// offsets frame_of reads.
struct Offsets {
  Long fn, dir, file, line, obj;
};
Offsets g_off;

void describe(DiEpoch ep, Addr ip, InlIPCursor* c, StrBuf* b) {
  Bool xml = VG_(clo_xml);
  VG_(clo_xml) = True;
  const HChar* text = VG_(describe_IP)(ep, ip, c);
  VG_(clo_xml) = xml;
  b->clear();
  g_off.fn = take(text, "fn", b);
  g_off.dir = take(text, "dir", b);
  g_off.file = take(text, "file", b);
  g_off.line = take(text, "line", b);
  g_off.obj = take(text, "obj", b);
}

Frame frame_of(const StrBuf& b) {
  const HChar* s = b.c_str();
  Frame fr = {g_off.fn >= 0 ? s + g_off.fn : "???", g_off.dir >= 0 ? s + g_off.dir : "",
              g_off.file >= 0 ? s + g_off.file : nullptr,
              g_off.line >= 0 ? (UInt)VG_(strtoll10)(s + g_off.line, nullptr) : 0,
              g_off.obj >= 0 ? s + g_off.obj : nullptr, false};
  if (fr.file && VG_(strcmp)(fr.file, "???") == 0) fr.file = nullptr;
  return fr;
}

}  // namespace

Kind classify(const Frame& f) {
  const HChar* fn = f.fn;
  if (f.obj && VG_(strstr)(f.obj, "/vgpreload_")) return kAllocator;
  if (is_alloc_fn(fn)) return kAllocator;
  if (VG_(strcmp)(fn, "(below main)") == 0 || VG_(get_fnname_kind)(fn) == Vg_FnNameBelowMain) return kLibc;
  StrBuf q;
  q.init("mt.label.q");
  qualified(fn, &q);
  Kind k = kUser;
  if (any_prefix(kStdPrefixes, q.c_str()) || rust_std_impl(q.c_str())) {
    k = kStd;
  } else if (f.in_std && !has_scope(q.c_str())) {
    k = kStd;  // inlined into the standard library, and no path of its own
  } else if (f.file) {
    const HChar* base = base_name(f.file);
    SizeT bl = VG_(strlen)(base);
    bool rust = bl > 3 && VG_(strcmp)(base + bl - 3, ".rs") == 0;
    if (!rust && any_match(kStdHeaders, base)) k = kStd;
    else if (rust && !has_scope(q.c_str()) &&
             (any_match(kRustStdFiles, base) || VG_(strstr)(fn, "alloc::alloc::Global") ||
              (f.dir && any_match(kRustStdDirs, f.dir))))
      k = kStd;
  }
  // Reserved names are the implementation's where it could be libc: with
  // source (the scripts cannot tell the object then) or in a system
  // library; a program's own _Py... or __foo stays its code.
  bool libc_place = f.file || !f.obj || any_match(kSystemObjects, f.obj);
  if (k == kUser && (any_match(kLibcFns, q.c_str()) || (reserved(q.c_str()) && libc_place))) k = kLibc;
  if (k == kUser && !f.file && f.obj && any_match(kSystemObjects, f.obj)) k = kSystem;
  q.free();
  return k;
}

bool is_alloc_fn(const HChar* fn) {
  if (!fn) return false;
  return any_match(kAllocators, fn) || patterns_match(g_opts.alloc_fns, fn);
}

bool is_user_alloc_fn(const HChar* fn) { return patterns_match(g_opts.alloc_fns, fn); }

bool is_ignore_fn(const HChar* fn) { return patterns_match(g_opts.ignore_fns, fn); }

void each_frame(ExeContext* ec, bool (*f)(const Frame&, void*), void* opaque) {
  struct Walk {
    bool (*f)(const Frame&, void*);
    void* opaque;
    bool stopped;
  } w = {f, opaque, false};
  auto one_ip = [](UInt, DiEpoch ep, Addr ip, void* o) {
    Walk* w = static_cast<Walk*>(o);
    if (w->stopped) return;
    StrBuf b;
    b.init("mt.label.frame");
    // The function the calls at ip were inlined into, the cursor's last
    // frame: a standard library function makes them the library's. (A
    // first pass finds it; labels are made at exit only.)
    InlIPCursor* c = VG_(new_IIPC)(ep, ip);
    bool inlined = false;
    while (VG_(next_IIPC)(c)) inlined = true;
    // A Rust call inlined from another file than that function's counts as
    // the library's too, as the scripts have it (they know no directories):
    // a call inlined from another of the user's files gives way to the
    // user's function it was inlined into.
    bool owner_std = false;
    StrBuf owner_file;
    owner_file.init("mt.label.owner");
    if (inlined) {
      describe(ep, ip, c, &b);
      Frame owner = frame_of(b);
      owner_std = classify(owner) == kStd;
      if (owner.file) owner_file.append(base_name(owner.file));
    }
    VG_(delete_IIPC)(c);
    c = VG_(new_IIPC)(ep, ip);
    bool more;
    do {
      describe(ep, ip, c, &b);
      Frame fr = frame_of(b);
      more = VG_(next_IIPC)(c);
      fr.in_std = owner_std;
      if (more && fr.file && owner_file.len()) {
        SizeT fl = VG_(strlen)(fr.file);
        bool rust = fl > 3 && VG_(strcmp)(fr.file + fl - 3, ".rs") == 0;
        if (rust && VG_(strcmp)(base_name(fr.file), owner_file.c_str()) != 0) fr.in_std = true;
      }
      if (!w->f(fr, w->opaque)) { w->stopped = true; break; }
    } while (more);
    owner_file.free();
    b.free();
    VG_(delete_IIPC)(c);
  };
  VG_(apply_ExeContext)(one_ip, &w, ec);
}

void absolute_path(const HChar* path, StrBuf* out) {
  StrBuf raw;
  raw.init("mt.label.path");
  if (path[0] != '/') {
    raw.append(VG_(get_startup_wd)());
    raw.append_char('/');
  }
  raw.append(path);
  // Normalise part by part.
  out->clear();
  const HChar* p = raw.c_str();
  while (*p) {
    while (*p == '/') p++;
    const HChar* e = p;
    while (*e && *e != '/') e++;
    SizeT n = (SizeT)(e - p);
    if (n == 0 || (n == 1 && p[0] == '.')) {
      // nothing
    } else if (n == 2 && p[0] == '.' && p[1] == '.') {
      SizeT len = out->len();
      const HChar* s = out->c_str();
      while (len > 0 && s[len - 1] != '/') len--;
      if (len > 0) len--;  // the '/' itself
      StrBuf keep;
      keep.init("mt.label.path");
      keep.append(s, len);
      out->clear();
      out->append(keep.c_str(), keep.len());
      keep.free();
    } else {
      out->append_char('/');
      out->append(p, n);
    }
    p = e;
  }
  if (!out->len()) out->append_char('/');
  raw.free();
}

namespace {

struct Under {
  const HChar* root;
  SizeT root_len;
  StrBuf* rel;
  UInt line;
  bool found;
};

bool under_frame(const Frame& f, void* o) {
  Under* u = static_cast<Under*>(o);
  if (!f.file || classify(f) != kUser) return true;
  StrBuf path, abs;
  path.init("mt.label.path");
  abs.init("mt.label.path");
  if (f.file[0] != '/' && f.dir[0]) {
    path.append(f.dir);
    path.append_char('/');
  }
  path.append(f.file);
  absolute_path(path.c_str(), &abs);
  const HChar* a = abs.c_str();
  bool root_is_slash = u->root_len == 1;
  if (VG_(strncmp)(a, u->root, u->root_len) == 0 && (root_is_slash || a[u->root_len] == '/')) {
    u->rel->clear();
    u->rel->append(a + u->root_len + (root_is_slash ? 0 : 1));
    u->line = f.line;
    u->found = true;
  }
  path.free();
  abs.free();
  return !u->found;
}

struct First {
  StrBuf* text;
  StrBuf* abs;
  UInt line;
  bool found;
  // The outermost named frame so far that is not an allocator: the label
  // when every frame is skipped, and the name of a nameless user frame (a
  // stripped program), the library function it called.
  StrBuf fallback;
  bool have_fallback;
};

// A library's own allocator wrapper, by its name (sqlite3Malloc,
// sqlite3DbMallocRaw, g_malloc): "alloc" in any case before the parameters.
bool alloc_like(const HChar* fn) {
  Long end = params_start(fn);
  if (end < 0) end = (Long)VG_(strlen)(fn);
  for (Long i = 0; i + 5 <= end; i++) {
    static const char kWord[] = "alloc";
    Long k = 0;
    while (k < 5) {
      HChar c = fn[i + k];
      if (c >= 'A' && c <= 'Z') c = (HChar)(c - 'A' + 'a');
      if (c != kWord[k]) break;
      k++;
    }
    if (k == 5) return true;
  }
  return false;
}

void frame_words(const Frame& f, StrBuf* out) {
  out->clear();
  out->append(f.fn);
  if (f.file) out->appendf(" (%s:%u)", f.file, f.line);
  else if (f.obj) out->appendf(" (in %s)", f.obj);
}

bool first_frame(const Frame& f, void* o) {
  First* w = static_cast<First*>(o);
  Kind k = classify(f);
  bool named = VG_(strcmp)(f.fn, "???") != 0;
  if (k == kUser) {
    if (!named && w->have_fallback) {
      // A stripped program: the library function it called, the nearest
      // named frame inside it.
      w->text->append(w->fallback.c_str());
    } else {
      frame_words(f, w->text);
      if (f.file) {
        StrBuf path;
        path.init("mt.label.path");
        if (f.file[0] != '/' && f.dir[0]) {
          path.append(f.dir);
          path.append_char('/');
        }
        path.append(f.file);
        absolute_path(path.c_str(), w->abs);
        path.free();
        w->line = f.line;
      }
    }
    w->found = true;
    return false;
  }
  if (named && k != kAllocator && !(k == kSystem && alloc_like(f.fn))) {
    frame_words(f, &w->fallback);
    w->have_fallback = true;
  }
  return true;
}

}  // namespace

bool first_under(ExeContext* ec, const HChar* root, StrBuf* rel, UInt* line) {
  if (!ec) return false;
  Under u = {root, VG_(strlen)(root), rel, 0, false};
  each_frame(ec, under_frame, &u);
  *line = u.line;
  return u.found;
}

bool label_of(ExeContext* ec, StrBuf* text, StrBuf* abs, UInt* line) {
  text->clear();
  abs->clear();
  *line = 0;
  if (!ec) return false;
  First w;
  w.text = text;
  w.abs = abs;
  w.line = 0;
  w.found = false;
  w.fallback.init("mt.label.fallback");
  w.have_fallback = false;
  each_frame(ec, first_frame, &w);
  if (!w.found && w.have_fallback) text->append(w.fallback.c_str());
  *line = w.line;
  bool ok = w.found || w.have_fallback;
  w.fallback.free();
  return ok;
}

void site_name(ExeContext* ec, StrBuf* out) {
  StrBuf abs;
  abs.init("mt.label.name");
  UInt line = 0;
  if (!label_of(ec, out, &abs, &line)) out->append("(no frame outside the allocator)");
  abs.free();
}

}  // namespace mt::label
