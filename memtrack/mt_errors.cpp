// Error kinds, their text (memcheck's shapes, so log filters keep working)
// and their suppressions.
#include "mt_errors.h"
#include "mt_store.h"
#include "mt_label.h"
#include "mt_leak_kinds.h"
#include "mt_options.h"

namespace mt::errors {

namespace {

enum Kind : ErrorKind { kBadFree = 0, kMismatch = 1, kFishy = 2, kLeak = 3, kLimit = 4 };
// memcheck's checks of some releases only (mt_vgcompat.h says which).
enum : ErrorKind { kReallocZero = 5, kBadAlign = 6, kBadSize = 7, kSizeMismatch = 8, kAlignMismatch = 9 };
constexpr ErrorKind kMempool = 16;  // custom allocators (mt_custom)
constexpr ErrorKind kOutput = 17;   // an output file not written at exit (never printed by the core)

// What the tool knows of an address (init's argument): custom::describe,
// which sits above this module (it reports errors itself), so it is handed
// in rather than included. Only a new realloc(p, 0) error and vgdb's
// who_points_at call it: no hot path goes through the pointer.
Known (*g_describe)(Addr a);

// A breached limit (kLimit), kept by the core like Extra.
using LimitText = Breach;

// The core copies this (size from update_extra) when it keeps the error.
struct Extra {
  FreeFn fn;
  AddrInfo ai;
  // kFishy: which function and argument, and the value it got.
  const char* fn_name;
  const char* arg_name;
  SSizeT value;
  // kBadAlign, kBadSize, kSizeMismatch, kAlignMismatch: memcheck's figures,
  // and the functions named (or why an alignment is bad).
  SizeT size, alloc_align, dealloc_align;
  bool default_delete;
  const char* words;
};

void describe(Addr a, const Known& k, AddrInfo* ai) {
  ai->tag = Addr_Undescribed;
  if (k.tag == Known::kNothing) {
    VG_(describe_addr)(VG_(current_DiEpoch)(), a, ai);
    return;
  }
  ai->tag = Addr_Block;
  ai->Addr.Block.block_kind = k.tag == Known::kLive ? Block_Mallocd : k.tag == Known::kChunk ? Block_MempoolChunk : Block_Freed;
  ai->Addr.Block.block_desc = k.recycled ? "recently re-allocated block" : "block";
  ai->Addr.Block.block_szB = k.size;
  ai->Addr.Block.rwoffset = (PtrdiffT)(a - k.start);
  // The stacks --keep-stacktraces shows (memcheck's MC_(allocated_at) and
  // MC_(freed_at)); the null stack prints as "at 0x0: ???", and a freed
  // block's null allocation stack leaves out "Block was alloc'd at".
  const bool freed = k.tag == Known::kFreed;
  const bool show_alloc = freed ? shows_alloc_of_freed() : shows_alloc_of_live();
  ai->Addr.Block.allocated_at = show_alloc && k.alloc_ec ? k.alloc_ec : VG_(null_ExeContext)();
  VG_(initThreadInfo)(&ai->Addr.Block.alloc_tinfo);
  ai->Addr.Block.freed_at = freed && k.free_ec ? k.free_ec : VG_(null_ExeContext)();
}

Bool eq_error(VgRes res, const Error* e1, const Error* e2) {
  // Same kind and same stack (checked by the core) make the same error, as
  // in memcheck, so error counts agree with it; where memcheck also compares
  // figures, so does memtrack (mc_eq_Error).
  const Extra* a = static_cast<const Extra*>(VG_(get_error_extra)(e1));
  const Extra* b = static_cast<const Extra*>(VG_(get_error_extra)(e2));
  switch (VG_(get_error_kind)(e1)) {
    case kFishy:
      return (VG_(strcmp)(a->fn_name, b->fn_name) == 0 && VG_(strcmp)(a->arg_name, b->arg_name) == 0) ? True : False;
    case kBadAlign:
      // A size that is no multiple of the alignment only tells two errors
      // apart when both have one.
      if (a->size && b->size) return (a->size == b->size && a->dealloc_align == b->dealloc_align) ? True : False;
      return a->dealloc_align == b->dealloc_align ? True : False;
    case kBadSize:
    case kSizeMismatch:
      return a->size == b->size ? True : False;
    case kAlignMismatch:
      return (a->alloc_align == b->alloc_align && a->dealloc_align == b->dealloc_align &&
              a->default_delete == b->default_delete) ? True : False;
    default:
      return True;
  }
}

void before_pp(const Error*) {}


void pp_leak(const Error* err) {
  const LeakText& t = *static_cast<const LeakText*>(VG_(get_error_extra)(err));
  char line[320];
  leak_line(t, line, sizeof line);
  if (VG_(clo_xml)) {
    // The numbers in <leakedbytes>/<leakedblocks> have no commas.
    VG_(printf_xml)("  <kind>%s</kind>\n", leak::names(t.kind).xml);
    VG_(printf_xml)("  <xwhat>\n");
    VG_(printf_xml)("    <text>%s</text>\n", line);
    VG_(printf_xml)("    <leakedbytes>%llu</leakedbytes>\n", (ULong)(t.direct + t.indirect));
    VG_(printf_xml)("    <leakedblocks>%llu</leakedblocks>\n", (ULong)t.blocks);
    VG_(printf_xml)("  </xwhat>\n");
  } else {
    VG_(umsg)("%s\n", line);
  }
  VG_(pp_ExeContext)(VG_(get_error_where)(err));
}

// The headline of a non-leak error: protocol 4's <kind> and <what>, or the
// text line.
void headline(const char* xml_kind, const char* what) {
  if (VG_(clo_xml)) {
    VG_(printf_xml)("  <kind>%s</kind>\n", xml_kind);
    VG_(printf_xml)("  <what>%pS</what>\n", what);  // site labels hold '<' and '&'
  } else {
    VG_(umsg)("%s\n", what);
  }
}

void pp_limit(const Error* err) {
  const LimitText& t = *static_cast<const LimitText*>(VG_(get_error_extra)(err));
  static const char* const xml_kinds[] = {"PeakLimit", "TotalLimit", "LeakLimit"};
  char line[1200];
  limit_line(t, VG_(get_error_where)(err), line, sizeof line);
  headline(xml_kinds[static_cast<UInt>(t.which)], line);
  VG_(pp_ExeContext)(VG_(get_error_where)(err));
}

void pp_error(const Error* err) {
  if (VG_(get_error_kind)(err) == kLeak) { pp_leak(err); return; }
  if (VG_(get_error_kind)(err) == kLimit) { pp_limit(err); return; }
  const Extra* x = static_cast<const Extra*>(VG_(get_error_extra)(err));
  switch (VG_(get_error_kind)(err)) {
    case kBadFree:
      headline("InvalidFree", "Invalid free() / delete / delete[] / realloc()");
      break;
    case kMismatch:
      headline("MismatchedFree", "Mismatched free() / delete / delete []");
      break;
    case kMempool:
      headline("InvalidMemPool", "Illegal memory pool address");
      break;
    case kFishy: {
      char what[256];
      VG_(snprintf)(what, sizeof what, "Argument '%s' of function %s has a fishy (possibly negative) value: %ld",
                    x->arg_name, x->fn_name, (Word)x->value);
      headline("FishyValue", what);
      VG_(pp_ExeContext)(VG_(get_error_where)(err));
      return;
    }
    case kReallocZero: {
      char what[128];
      VG_(snprintf)(what, sizeof what, "%s() with size 0",
                    vgcompat::realloc_size_zero_fn(VG_(get_error_where)(err)));
      headline("ReallocSizeZero", what);
      break;
    }
    case kBadAlign: {
      char what[256];
      if (x->size)
        VG_(snprintf)(what, sizeof what, "Invalid size value: %lu alignment value: %lu%s", x->size, x->dealloc_align,
                      x->words);
      else
        VG_(snprintf)(what, sizeof what, "Invalid alignment value: %lu%s", x->dealloc_align, x->words);
      headline(x->size ? "InvalidSizeAndAlignment" : "InvalidAlignment", what);
      VG_(pp_ExeContext)(VG_(get_error_where)(err));
      return;
    }
    case kBadSize: {
      char what[128];
      if (vgcompat::kUnsafeZeroSize)
        VG_(snprintf)(what, sizeof what, "Unsafe allocation with size of zero is implementation-defined");
      else
        VG_(snprintf)(what, sizeof what, "%s invalid size value: %lu", x->words, x->size);
      headline("InvalidSize", what);
      VG_(pp_ExeContext)(VG_(get_error_where)(err));
      return;
    }
    case kSizeMismatch: {
      char what[128];
      VG_(snprintf)(what, sizeof what, "Mismatched %s size value: %lu", x->words, x->size);
      headline("MismatchedAllocateDeallocateSize", what);
      break;
    }
    case kAlignMismatch: {
      // memcheck's XML says "size" where its text says "alignment".
      char what[160], dealloc[32];
      if (x->default_delete) VG_(snprintf)(dealloc, sizeof dealloc, "default-aligned");
      else VG_(snprintf)(dealloc, sizeof dealloc, "%lu", x->dealloc_align);
      VG_(snprintf)(what, sizeof what, "Mismatched %s %s alloc value: %lu dealloc value: %s", x->words,
                    VG_(clo_xml) ? "size" : "alignment", x->alloc_align, dealloc);
      headline("MismatchedAllocateDeallocateAlignment", what);
      break;
    }
    default:
      tl_assert(0);
  }
  VG_(pp_ExeContext)(VG_(get_error_where)(err));
  const AddrInfo& ai = x->ai;
  VG_(pp_addrinfo_mc)(VG_(get_error_address)(err), &ai, False);
}

UInt update_extra(const Error* err) {
  switch (VG_(get_error_kind)(err)) {
    case kLeak: return sizeof(LeakText);
    case kLimit: return sizeof(LimitText);
    case kOutput: return 0;
    case kReallocZero: {
      // Called for a new error only, while p is still the block it was:
      // describing it costs a look through the freed-block history, which a
      // program that frees with realloc(p, 0) should not pay at every call.
      Extra* x = static_cast<Extra*>(VG_(get_error_extra)(err));
      Addr a = VG_(get_error_address)(err);
      describe(a, g_describe(a), &x->ai);
      return sizeof(Extra);
    }
    default: return sizeof(Extra);
  }
}

// Suppression kinds of the checks memcheck of this release makes (the
// others are unknown to it, so to memtrack too); kNoKind if name is none.
constexpr ErrorKind kNoKind = 0xffff;
ErrorKind versioned_kind(const char* name, SizeT len) {
  auto is = [&](const char* k) { return len == VG_(strlen)(k) && VG_(strncmp)(name, k, len) == 0; };
  if (vgcompat::kReallocSizeZeroError && is("ReallocZero")) return kReallocZero;
  if (!vgcompat::kAlignedCallsChecked) return kNoKind;
  if (is("BadAlign")) return kBadAlign;
  if (is("SizeMismatch")) return kSizeMismatch;
  if (is("AlignMismatch")) return kAlignMismatch;
  // 3.26 renamed BadSize and still reads the old name.
  if (is("BadSize") || (vgcompat::kUnsafeZeroSize && is("UnsafeZeroSize"))) return kBadSize;
  return kNoKind;
}

Bool recognised_suppression(const HChar* name, Supp* su) {
  if (VG_(strcmp)(name, "Free") == 0) {
    VG_(set_supp_kind)(su, kBadFree);  // covers mismatches too, as in memcheck
    return True;
  }
  if (VG_(strcmp)(name, "FishyValue") == 0) {
    VG_(set_supp_kind)(su, kFishy);
    return True;
  }
  if (VG_(strcmp)(name, "Leak") == 0) {
    VG_(set_supp_kind)(su, kLeak);
    return True;
  }
  if (VG_(strcmp)(name, "Limit") == 0) {
    VG_(set_supp_kind)(su, kLimit);
    return True;
  }
  if (VG_(strcmp)(name, "Mempool") == 0) {
    VG_(set_supp_kind)(su, kMempool);
    return True;
  }
  ErrorKind k = versioned_kind(name, VG_(strlen)(name));
  if (k != kNoKind) {
    VG_(set_supp_kind)(su, k);
    return True;
  }
  return False;
}

// A Leak suppression's optional "match-leak-kinds:" line; without it the
// suppression matches every kind. Kept as a bitset in the supp's extra.
// A Leak suppression's extra: the kinds it matches and, as memcheck shows
// with -s, what it suppressed in the latest search.
struct LeakSupp {
  UInt kinds;
  UInt search;
  ULong bytes, blocks;
};
UInt g_leak_search;  // the latest leak search's number (leak_search_begins)

Bool read_leak_kinds(Int fd, HChar** bufpp, SizeT* nBufp, Int* lineno, Supp* su) {
  LeakSupp* ls = static_cast<LeakSupp*>(alloc_zeroed("mt.supp.leak", sizeof(LeakSupp)));
  ls->kinds = leak::kAllKinds;
  UInt* kinds = &ls->kinds;
  VG_(set_supp_extra)(su, ls);
  // True from get_line: end of file or a frame line, which the core reads
  // again as the first frame.
  if (VG_(get_line)(fd, bufpp, nBufp, lineno)) return True;
  const char* prefix = "match-leak-kinds:";
  SizeT plen = VG_(strlen)(prefix);
  if (VG_(strncmp)(*bufpp, prefix, plen) != 0) return False;
  const HChar* set = *bufpp + plen;
  while (*set == ' ' || *set == '\t') set++;
  return VG_(parse_enum_set)(leak::kKindTokens, True, set, kinds);
}

// FishyValue suppressions carry one extra line, "function(argument)", as
// memcheck's do; the other kinds carry none.
Bool read_extra_suppression_info(Int fd, HChar** bufpp, SizeT* nBufp, Int* lineno, Supp* su) {
  if (VG_(get_supp_kind)(su) == kLeak) return read_leak_kinds(fd, bufpp, nBufp, lineno, su);
  if (VG_(get_supp_kind)(su) != kFishy) return True;
  if (VG_(get_line)(fd, bufpp, nBufp, lineno)) return False;
  VG_(set_supp_string)(su, VG_(strdup)("mt.supp.fishy", *bufpp));
  return True;
}

Bool error_matches_suppression(const Error* err, const Supp* su) {
  ErrorKind k = VG_(get_error_kind)(err);
  switch (VG_(get_supp_kind)(su)) {
    case kBadFree: return (k == kBadFree || k == kMismatch) ? True : False;
    case kLimit: return k == kLimit ? True : False;
    case kMempool: return k == kMempool ? True : False;
    case kReallocZero:
    case kBadAlign:
    case kBadSize:
    case kSizeMismatch:
    case kAlignMismatch: return k == VG_(get_supp_kind)(su) ? True : False;
    case kLeak: {
      if (k != kLeak) return False;
      const LeakText* t = static_cast<const LeakText*>(VG_(get_error_extra)(err));
      const LeakSupp* ls = static_cast<const LeakSupp*>(VG_(get_supp_extra)(su));
      return (!ls || (ls->kinds & (1u << t->kind))) ? True : False;
    }
    case kFishy: {
      if (k != kFishy) return False;
      const Extra* x = static_cast<const Extra*>(VG_(get_error_extra)(err));
      char want[128];
      VG_(snprintf)(want, sizeof want, "%s(%s)", x->fn_name, x->arg_name);
      const HChar* s = VG_(get_supp_string)(su);
      return (s && VG_(strcmp)(s, want) == 0) ? True : False;
    }
    default: return False;
  }
}

const HChar* get_error_name(const Error* err) {
  switch (VG_(get_error_kind)(err)) {
    case kBadFree:
    case kMismatch: return "Free";
    case kFishy: return "FishyValue";
    case kLeak: return "Leak";
    case kLimit: return "Limit";
    case kMempool: return "Mempool";
    case kReallocZero: return "ReallocZero";
    case kBadAlign: return "BadAlign";
    case kBadSize: return vgcompat::kUnsafeZeroSize ? "UnsafeZeroSize" : "BadSize";
    case kSizeMismatch: return "SizeMismatch";
    case kAlignMismatch: return "AlignMismatch";
    default: return nullptr;
  }
}

SizeT print_extra_suppression_info(const Error* err, HChar* buf, Int nBuf) {
  if (VG_(get_error_kind)(err) == kLeak) {
    const LeakText* t = static_cast<const LeakText*>(VG_(get_error_extra)(err));
    Int n = (Int)VG_(snprintf)(buf, nBuf, "match-leak-kinds: %s", leak::names(t->kind).token);
    return n < nBuf ? (SizeT)n : (SizeT)nBuf;
  }
  if (VG_(get_error_kind)(err) == kFishy) {
    const Extra* x = static_cast<const Extra*>(VG_(get_error_extra)(err));
    Int n = (Int)VG_(snprintf)(buf, nBuf, "%s(%s)", x->fn_name, x->arg_name);
    return n < nBuf ? (SizeT)n : (SizeT)nBuf;
  }
  buf[0] = 0;
  return 0;
}

SizeT print_extra_suppression_use(const Supp* su, HChar* buf, Int nBuf) {
  if (VG_(get_supp_kind)(su) == kLeak && VG_(get_supp_extra)(su)) {
    const LeakSupp* ls = static_cast<const LeakSupp*>(VG_(get_supp_extra)(su));
    // As memcheck: only what the latest search suppressed (an entry used by
    // an earlier search only, such as one loaded twice, shows its count alone).
    if (ls->search != g_leak_search || ls->blocks == 0) {
      buf[0] = 0;
      return 0;
    }
    char b[32], k[32];
    Int n = (Int)VG_(snprintf)(buf, nBuf, "suppressed: %s bytes in %s blocks", commas(ls->bytes, b, sizeof b),
                               commas(ls->blocks, k, sizeof k));
    return n < nBuf ? (SizeT)n : (SizeT)nBuf;
  }
  buf[0] = 0;
  return 0;
}

void update_extra_suppression_use(const Error* err, const Supp* su) {
  if (VG_(get_error_kind)(err) != kLeak || VG_(get_supp_kind)(su) != kLeak || !VG_(get_supp_extra)(su)) return;
  const LeakText* t = static_cast<const LeakText*>(VG_(get_error_extra)(err));
  LeakSupp* ls = static_cast<LeakSupp*>(VG_(get_supp_extra)(su));
  if (ls->search != t->search) {  // figures of the latest search only
    ls->search = t->search;
    ls->bytes = ls->blocks = 0;
  }
  ls->bytes += t->direct + t->indirect;
  ls->blocks += t->blocks;
}

}  // namespace

void leak_line(const LeakText& t, char* line, SizeT size) {
  char tot[64], dir[64], ind[64], blk[64];
  // memcheck 3.21+ marks a record that had no blocks at the previous search
  // "new" in every delta search.
  const char* fresh = vgcompat::kNewLeakSearch && t.delta && t.old_blocks == 0 ? "new " : "";
  commas_delta(t.direct + t.indirect, t.old_direct + t.old_indirect, t.delta, tot, sizeof tot);
  commas_delta(t.blocks, t.old_blocks, t.delta, blk, sizeof blk);
  if (t.kind == leak::kDefinite && t.indirect > 0) {
    commas_delta(t.direct, t.old_direct, t.delta, dir, sizeof dir);
    commas_delta(t.indirect, t.old_indirect, t.delta, ind, sizeof ind);
    VG_(snprintf)(line, size, "%s (%s direct, %s indirect) bytes in %s blocks are %s in %sloss record %'u of %'u",
                  tot, dir, ind, blk, leak::names(t.kind).words, fresh, t.n, t.of);
  } else {
    VG_(snprintf)(line, size, "%s bytes in %s blocks are %s in %sloss record %'u of %'u", tot, blk,
                  leak::names(t.kind).words, fresh, t.n, t.of);
  }
}

void init(Known (*describe)(Addr a)) {
  g_describe = describe;
  VG_(needs_tool_errors)(eq_error, before_pp, pp_error, True /*show thread ids*/, update_extra,
                         recognised_suppression, read_extra_suppression_info,
                         error_matches_suppression, get_error_name, print_extra_suppression_info,
                         print_extra_suppression_use, update_extra_suppression_use);
  VG_(needs_xml_output)();
}

// ---- memcheck suppression files ---------------------------------------------
//
// The core applies only the entries that name the running tool. Each file
// it is given, whenever it is given (on the command line, from
// VALGRIND_CLO_CHANGE("--suppressions=FILE") or vgdb's "v.clo" while the
// program runs), gets a companion: a temporary file that holds the file's
// Memcheck entries of the kinds memtrack reports, respelt "Memtrack:KIND",
// on the lines where the original has them. Once the core has read the
// companion, its entry in the core's list of files names the original, so
// that -s's "used_suppression: N name FILE:LINE" lines say what memcheck's
// say, and the temporary file goes.
//
// A file given while the program runs is loaded by the core at once, and
// the core tells no tool; memtrack notices it before it reports its next
// error (the list only grows), which is before any error could need it.

}  // namespace mt::errors

// Core symbols without a tool header (declared in pub_core_*.h).
extern "C" {
extern XArray* VG_(clo_suppressions);  // of HChar*: the files the core loads (or has loaded)
extern void VG_(add_suppression_file)(const HChar* filename);  // appends, and loads if running
}

namespace mt::errors {

namespace {

// A companion file the core has in its list but has not read yet (the
// files given on the command line: it reads them after the tool's
// post-option hook).
struct Companion {
  HChar* temp;          // its path
  Word index;           // its place in VG_(clo_suppressions)
  const HChar* original;
};
Vec<Companion> g_unread;
Word g_files_seen;  // VG_(clo_suppressions)'s entries already looked at
bool g_running;     // the core has read the command line's files
UInt g_companions;  // temporary files made, for their names

// "Memcheck:Leak" or "Memcheck,Helgrind:Free" -> the kind, if the tool list
// names Memcheck and not Memtrack and the kind is one memtrack has.
bool memcheck_kind(const char* line, SizeT len, const char** kind, SizeT* kind_len) {
  const char* colon = nullptr;
  for (SizeT i = 0; i < len; i++) if (line[i] == ':') { colon = line + i; break; }
  if (!colon) return false;
  bool mc = false, mt = false;
  const char* p = line;
  while (p < colon) {
    const char* e = p;
    while (e < colon && *e != ',') e++;
    SizeT n = e - p;
    if (n == 8 && VG_(strncmp)(p, "Memcheck", 8) == 0) mc = true;
    if (n == 8 && VG_(strncmp)(p, "Memtrack", 8) == 0) mt = true;
    p = e + 1;
  }
  if (!mc || mt) return false;
  *kind = colon + 1;
  *kind_len = line + len - (colon + 1);
  static const char* known[] = {"Leak", "Free", "FishyValue", "Mempool"};
  for (const char* k : known)
    if (*kind_len == VG_(strlen)(k) && VG_(strncmp)(*kind, k, *kind_len) == 0) return true;
  return versioned_kind(*kind, *kind_len) != kNoKind;
}

// One line of a suppression file as the core reads it: leading and
// trailing blanks dropped; blank and '#' lines are not lines to it.
struct Line {
  const char* s;  // first non-blank byte
  SizeT n;        // up to the last non-blank byte
  const char* next;
};
Line line_at(const char* p) {
  const char* e = p;
  while (*e && *e != '\n') e++;
  Line l = {p, 0, *e ? e + 1 : e};
  while (l.s < e && VG_(isspace)(*l.s)) l.s++;
  const char* t = e;
  while (t > l.s && VG_(isspace)(t[-1])) t--;
  l.n = t - l.s;
  return l;
}
bool is_text(const Line& l) { return l.n && *l.s != '#'; }
bool is(const Line& l, const char* w) { return l.n == VG_(strlen)(w) && VG_(strncmp)(l.s, w, l.n) == 0; }

void newlines(const char* from, const char* to, StrBuf* out) {
  for (const char* p = from; p < to; p++)
    if (*p == '\n') out->append_char('\n');
}

// The companion of one file (text): its adopted entries, each on the lines
// it has in the file (the core numbers a suppression by its name's line),
// everything else blank. Returns how many entries it adopted.
UInt translate(const char* text, StrBuf* out) {
  UInt adopted = 0;
  const char* p = text;
  while (*p) {
    Line l = line_at(p);
    if (!is(l, "{")) {  // outside any entry
      newlines(p, l.next, out);
      p = l.next;
      continue;
    }
    // An entry: "{", a name line, a tool:kind line, extra lines, frames, "}".
    const char* open = p;
    const char* q = l.next;
    Line kind_line = {nullptr, 0, nullptr};
    UInt seen = 0;
    while (*q) {
      Line m = line_at(q);
      q = m.next;
      if (!is_text(m)) continue;
      if (is(m, "}")) break;
      if (++seen == 2) kind_line = m;
    }
    const char* kind;
    SizeT klen;
    if (kind_line.s && memcheck_kind(kind_line.s, kind_line.n, &kind, &klen)) {
      out->append(open, kind_line.s - open);
      out->append("Memtrack:");
      out->append(kind, klen);
      out->append(kind_line.s + kind_line.n, q - (kind_line.s + kind_line.n));
      adopted++;
    } else {
      newlines(open, q, out);
    }
    p = q;
  }
  return adopted;
}

// Writes the companion of path; its name (ours), or null when the file has
// nothing to adopt or cannot be read (the core reports unreadable files).
HChar* companion(const HChar* path) {
  SizeT len;
  char* text = read_whole_file(path, "mt.supp.read", &len);
  if (!text) return nullptr;
  StrBuf out;
  out.init("mt.supp.adopt");
  UInt adopted = translate(text, &out);
  dealloc(text);
  HChar* name = nullptr;
  if (adopted) {
    // Our own names, not VG_(mkstemp)'s: it seeds its names with the pid
    // alone, so a second file in one run (or a file a killed run left)
    // makes it print a complaint into the program's error output.
    const HChar* dir = VG_(tmpdir)();
    SizeT cap = VG_(strlen)(dir) + 64;
    name = static_cast<HChar*>(alloc("mt.supp.adopt", cap));
    Int fd = -1;
    for (UInt k = 0; k < 1000 && fd < 0; k++) {
      g_companions++;
      VG_(snprintf)(name, (Int)cap, "%s/memtrack-memcheck-supp.%d.%u", dir, VG_(getpid)(), g_companions);
      SysRes r = VG_(open)(name, VKI_O_CREAT | VKI_O_EXCL | VKI_O_WRONLY, VKI_S_IRUSR | VKI_S_IWUSR);
      if (!sr_isError(r)) fd = (Int)sr_Res(r);
      else if (sr_Err(r) != VKI_EEXIST) break;
    }
    if (fd < 0) {
      VG_(umsg)("memtrack: cannot write a file in %s: the Memcheck entries of %s are not applied\n", dir, path);
      dealloc(name);
      name = nullptr;
    } else {
      VG_(write)(fd, out.c_str(), (Int)out.len());
      VG_(close)(fd);
    }
  }
  out.free();
  return name;
}

// The core's list entry at i names path from now on.
void rename_entry(Word i, const HChar* path) {
  HChar** slot = static_cast<HChar**>(VG_(indexXA)(VG_(clo_suppressions), i));
  *slot = VG_(strdup)("mt.supp.name", path);  // the core's copy of the temporary name stays (a few bytes)
}

// Companions for the files added to the core's list since the last look.
void adopt_new_files() {
  Word n = VG_(sizeXA)(VG_(clo_suppressions));
  for (Word i = g_files_seen; i < n; i++) {
    const HChar* path = *static_cast<HChar**>(VG_(indexXA)(VG_(clo_suppressions), i));
    HChar* temp = companion(path);
    if (!temp) continue;
    if (g_running) {
      VG_(add_suppression_file)(temp);  // read now
      rename_entry(VG_(sizeXA)(VG_(clo_suppressions)) - 1, path);
      VG_(unlink)(temp);
      dealloc(temp);
    } else {
      g_unread.push({temp, VG_(sizeXA)(VG_(clo_suppressions)), path});
      VG_(addToXA)(VG_(clo_suppressions), &temp);  // read after post_clo_init
    }
  }
  g_files_seen = VG_(sizeXA)(VG_(clo_suppressions));
}

// Before an error meets the suppressions: the core has read the command
// line's files (the program is running); a file given since then gets its
// companion.
void sync_suppressions() {
  if (!VG_(clo_suppressions)) return;
  if (!g_running) {
    g_running = true;
    for (SizeT k = 0; k < g_unread.size(); k++) {
      rename_entry(g_unread[k].index, g_unread[k].original);
      VG_(unlink)(g_unread[k].temp);
      dealloc(g_unread[k].temp);
    }
    g_unread.free();
  }
  if (VG_(sizeXA)(VG_(clo_suppressions)) != g_files_seen) adopt_new_files();
}

}  // namespace

void adopt_memcheck_suppressions() {
  g_unread.init("mt.supp.unread");
  if (!VG_(clo_suppressions)) return;
  adopt_new_files();
  // The core reads the files between this hook and the program's first
  // instruction: the temporary ones can go then, before anything could
  // kill the run (or exec) and leave them behind.
  VG_(track_pre_thread_first_insn)([](ThreadId) { sync_suppressions(); });
}

void remove_adopted_suppressions() { sync_suppressions(); }

void bad_free(ThreadId tid, Addr a, FreeFn fn, const Known& known) {
  Extra x;
  VG_(memset)(&x, 0, sizeof x);
  x.fn = fn;
  describe(a, known, &x.ai);
  sync_suppressions();
  VG_(maybe_record_error)(tid, kBadFree, a, nullptr, &x);
}

void mismatched_free(ThreadId tid, const Block* b, FreeFn fn) {
  Known k = {Known::kLive, b->start, b->req_size(), nullptr, nullptr};
  k.alloc_ec = store::alloc_context(b);
  mismatched_free(tid, k, fn);
}

void mismatched_free(ThreadId tid, const Known& block, FreeFn fn) {
  Extra x;
  VG_(memset)(&x, 0, sizeof x);
  x.fn = fn;
  describe(block.start, block, &x.ai);
  sync_suppressions();
  VG_(maybe_record_error)(tid, kMismatch, block.start, nullptr, &x);
}

void illegal_mempool(ThreadId tid, Addr pool, const Known& known) {
  Extra x;
  VG_(memset)(&x, 0, sizeof x);
  describe(pool, known, &x.ai);
  sync_suppressions();
  VG_(maybe_record_error)(tid, kMempool, pool, nullptr, &x);
}

void leak_search_begins(UInt n) { g_leak_search = n; }

void pp_loss_record(ExeContext* where, const LeakText& t) {
  char line[320];
  leak_line(t, line, sizeof line);
  VG_(umsg)("%s\n", line);
  VG_(pp_ExeContext)(where);
}

void pp_describe_addr(Addr a) {
  AddrInfo ai;
  describe(a, g_describe(a), &ai);
  VG_(pp_addrinfo_mc)(a, &ai, False);
  VG_(clear_addrinfo)(&ai);
}

bool leak(ThreadId tid, ExeContext* where, const LeakText& t, bool print, bool count) {
  sync_suppressions();
  LeakText copy = t;  // unique errors are printed at once; no copy is kept
  return VG_(unique_error)(tid, kLeak, 0, nullptr, &copy, where, print ? True : False, False, count ? True : False);
}

bool limit_exceeded(ThreadId tid, const Breach& b, ExeContext* where) {
  sync_suppressions();
  LimitText t = b;
  // A unique error: reported once, at the site that contributed most, and
  // counted for --error-exitcode like any other.
  return VG_(unique_error)(tid, kLimit, 0, nullptr, &t, where, True /*print*/, False /*no gdb attach*/,
                           True /*count*/);
}

void limit_line(const Breach& t, ExeContext* where, char* out, SizeT n) {
  static const char* const what[] = {"Heap peak limit", "Total allocation limit", "Leak limit"};
  static const char* const measured[] = {"bytes live", "bytes allocated", "bytes lost"};
  static const char* const site_verb[] = {"live", "allocated", "lost"};
  UInt w = static_cast<UInt>(t.which);
  // A lost figure says what it added up.
  char parts[160] = "";
  if (t.which == Limit::kLeak) {
    char p[150];
    leak::lost_parts(t.parts, t.kinds, p, sizeof p);
    VG_(snprintf)(parts, sizeof parts, " (%s)", p);
  }
  // The site by its label (its first frame in the program's own code, as
  // the scripts, the SARIF file and vgdb's lists name it) before its stack.
  StrBuf label;
  label.init("mt.errors.label");
  label::site_name(where, &label);
  char v[32], l[32], sb[32], sk[32];
  VG_(snprintf)(out, (Int)n, "%s of %s bytes exceeded: %s %s%s; the most from %s: %s bytes in %s blocks %s at", what[w],
                commas(t.limit, l, sizeof l), commas(t.value, v, sizeof v), measured[w], parts, label.c_str(),
                commas(t.site_bytes, sb, sizeof sb), commas(t.site_blocks, sk, sizeof sk), site_verb[w]);
  label.free();
}

void output_not_written() {
  // Counted (so --error-exitcode fails the run and the ERROR SUMMARY says
  // so) but not printed: OutFile's line has named the file and the reason.
  VG_(unique_error)(1, kOutput, 0, nullptr, nullptr, VG_(null_ExeContext)(), False /*print*/, False, True /*count*/);
}

void fishy_value(ThreadId tid, const char* fn, const char* arg, SizeT value) {
  Extra x;
  VG_(memset)(&x, 0, sizeof x);
  x.ai.tag = Addr_Undescribed;
  x.fn_name = fn;
  x.arg_name = arg;
  x.value = (SSizeT)value;
  sync_suppressions();
  VG_(maybe_record_error)(tid, kFishy, 0, nullptr, &x);
}

void realloc_size_zero(ThreadId tid, Addr p) {
  Extra x;
  VG_(memset)(&x, 0, sizeof x);
  x.fn = kFnRealloc;
  x.ai.tag = Addr_Undescribed;  // by update_extra, if the error is new
  sync_suppressions();
  VG_(maybe_record_error)(tid, kReallocZero, p, nullptr, &x);
}

void bad_alignment(ThreadId tid, SizeT align, SizeT size, const char* why) {
  Extra x;
  VG_(memset)(&x, 0, sizeof x);
  x.ai.tag = Addr_Undescribed;
  x.dealloc_align = align;
  x.size = size;
  x.words = why;
  sync_suppressions();
  VG_(maybe_record_error)(tid, kBadAlign, 0, nullptr, &x);
}

void zero_size(ThreadId tid, const char* fn) {
  Extra x;
  VG_(memset)(&x, 0, sizeof x);
  x.ai.tag = Addr_Undescribed;
  x.words = fn;
  sync_suppressions();
  VG_(maybe_record_error)(tid, kBadSize, 0, nullptr, &x);
}

void size_mismatch(ThreadId tid, const Known& block, SizeT size, const char* fns) {
  Extra x;
  VG_(memset)(&x, 0, sizeof x);
  describe(block.start, block, &x.ai);
  x.size = size;
  x.words = fns;
  sync_suppressions();
  VG_(maybe_record_error)(tid, kSizeMismatch, block.start, nullptr, &x);
}

void align_mismatch(ThreadId tid, const Known& block, SizeT alloc_align, SizeT dealloc_align, bool default_delete,
                    const char* fns) {
  Extra x;
  VG_(memset)(&x, 0, sizeof x);
  describe(block.start, block, &x.ai);
  x.alloc_align = alloc_align;
  x.dealloc_align = dealloc_align;
  x.default_delete = default_delete;
  x.words = fns;
  sync_suppressions();
  VG_(maybe_record_error)(tid, kAlignMismatch, block.start, nullptr, &x);
}

}  // namespace mt::errors
