// Site labels: which frames of an allocation stack are the program's own
// code. The rules are those of scripts/memtrack_lib/labels.py (the scripts
// label profiles already written; the tool places SARIF results and trims
// the massif file's trees), and the manual's "Site labels" states them: a
// frame is skipped when it is an allocator (the replacements, operator
// new/delete, Rust's allocator shims, --alloc-fn), the C++ or Rust standard
// library (by qualified name, or by the standard header an inlined frame
// comes from), the C library (its allocating functions and the names C
// reserves for the implementation), or has no source and lies in a system
// library (/lib, /usr/lib, /usr/libexec).
#pragma once

#include "mt_rt.h"

namespace mt::label {

// One frame as the debug information has it; inlined calls are frames of
// their own. Pointers are valid during the callback only.
struct Frame {
  const HChar* fn;    // "???" when unknown
  const HChar* dir;   // "" when unknown
  const HChar* file;  // null when there is no source line
  UInt line;
  const HChar* obj;   // null when unknown
  bool in_std;        // one of the calls inlined into a standard library function
};

enum Kind : UChar { kUser, kAllocator, kStd, kLibc, kSystem };

Kind classify(const Frame& f);

// --alloc-fn: the function is an allocator. Matches the built-in list
// (massif's plus the replacements) or an --alloc-fn pattern, against the
// name as Valgrind prints it or that name without its parameter list.
bool is_alloc_fn(const HChar* fn);
// Only the --alloc-fn patterns (the massif file: its allocators are the
// preload's frames, which massif's own list names).
bool is_user_alloc_fn(const HChar* fn);
// --ignore-fn: a pattern matches fn (either form, as above).
bool is_ignore_fn(const HChar* fn);

// Calls f(const Frame&) for each frame of ec, innermost first, inlined
// calls expanded; f returns false to stop.
void each_frame(ExeContext* ec, bool (*f)(const Frame&, void*), void* opaque);

// The first frame of ec that is none of the skipped kinds and whose source
// file lies under root (an absolute, normalised directory): its path
// relative to root in *rel and its line. False if there is none.
bool first_under(ExeContext* ec, const HChar* root, StrBuf* rel, UInt* line);
// The label's frame: the first frame the rules do not skip (see
// labels.py for the fallbacks), as "fn (file:line)", and its absolute
// source path when it has one (else *abs is left empty).
bool label_of(ExeContext* ec, StrBuf* text, StrBuf* abs, UInt* line);
// The label's text alone into out (replacing what it held), or "(no frame
// outside the allocator)": how the gate errors and vgdb's lists name a site.
void site_name(ExeContext* ec, StrBuf* out);

// A path made absolute (relative to the start-up directory) and
// normalised: no "." or ".." parts, no doubled or trailing '/'.
void absolute_path(const HChar* path, StrBuf* out);

}  // namespace mt::label
