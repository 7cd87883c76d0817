// Monitor commands. The core passes every command line here (after its own
// v.* commands and its part of `help`); what memtrack prints goes back to
// vgdb or gdb. memcheck's commands that need no definedness bits
// (`leak_check`, `block_list`, `who_points_at`) take memcheck's arguments,
// with memcheck's defaults, answers and one-line complaints, so scripts
// written for memcheck work. The others are recognised by the same words
// (so abbreviations resolve as under memcheck) and answered with a line
// saying why memtrack has no such command. memtrack's own commands for a
// running server (dump_profile, heap_stats, top) and massif's (snapshot,
// detailed_snapshot, all_snapshots, with massif's file names) follow.
#include "mt_monitor.h"
#include "mt_label.h"
#include "mt_leak.h"
#include "mt_massif.h"
#include "mt_profile.h"
#include "mt_sites.h"

namespace mt::monitor {

namespace {

void help() {
  VG_(gdb_printf)(
      "\n"
      "memtrack monitor commands:\n"
      "  leak_check [full|summary] [kinds <set>|reachable|possibleleak|definiteleak]\n"
      "             [heuristics <set>] [%sincreased|changed|any] [unlimited|limited <n>]\n"
      "        searches the heap for leaks now, as the end-of-run search does,\n"
      "        and reports to vgdb/gdb. Without arguments: full, kinds\n"
      "        definite,possible, heuristics none, increased, unlimited.\n"
      "          full        list loss records, then the LEAK SUMMARY\n"
      "          summary     the LEAK SUMMARY only\n"
      "          kinds <set> list these kinds: definite,indirect,possible,reachable,\n"
      "                      all or none; 'reachable' is all, 'possibleleak' is\n"
      "                      definite,indirect,possible, 'definiteleak' is definite\n"
      "          heuristics <set>  interior pointers taken as reachable:\n"
      "                      stdstring,length64,newarray,multipleinheritance, all or none\n"
      "%s"
      "          increased   only records that grew since the previous search\n"
      "          changed     only records that changed since the previous search\n"
      "          any         every record (no +/- differences)\n"
      "          limited <n> only the <n> largest records\n"
      "        Leaks found here are never counted as errors. Abbreviations work\n"
      "        ('leak_check f r a' = full, all kinds, any). memcheck's xtleak\n"
      "        (a callgrind-format file) is not available.\n"
      "        Examples: leak_check\n"
      "                  leak_check summary any\n"
      "                  leak_check full kinds all any limited 20\n"
      "  block_list <loss_record_nr>|<loss_record_nr_from>..<loss_record_nr_to>\n"
      "             [unlimited|limited <max_blocks>] [heuristics <set>]\n"
      "        lists the blocks of a loss record of the last leak search (or of\n"
      "        each record of the range that has blocks to show), each followed by\n"
      "        the blocks it holds indirectly, indented by level, with their loss\n"
      "        records. Until the program frees something: after a free, search\n"
      "        again.\n"
      "          limited <max_blocks>  stop after that many blocks (default unlimited)\n"
      "          heuristics <set>      only blocks found through these heuristics\n"
      "        Examples: block_list 7\n"
      "                  block_list 1..20 limited 10\n"
      "  who_points_at <addr> [<len>]\n"
      "        lists every place holding a pointer to <addr>: global and stack\n"
      "        memory (as the leak search sees it), heap blocks, and the registers\n"
      "        of every thread. With <len> > 1 (default 1), pointers anywhere in the\n"
      "        <len> bytes from <addr> (interior pointers) too, with the leak\n"
      "        heuristics that would accept them. <addr>[<len>] works too.\n"
      "  xb, get_vbits, make_memory, check_memory\n"
      "        memcheck's definedness commands: memtrack keeps no definedness bits,\n"
      "        so these need memcheck (run the program with --tool=memcheck).\n"
      "        xtmemory and leak_check's xtleak (xtree files) are not available.\n"
      "  dump_profile [<filename>]\n"
      "        writes a DHAT-format profile of the run so far (what MEMTRACK_DUMP_PROFILE\n"
      "        writes); %%p and %%q{VAR} expand; default memtrack.vgdb.out.%%p\n"
      "  heap_stats\n"
      "        live heap now, at the peak so far (t-gmax) and allocated in total,\n"
      "        in bytes and blocks, and the instructions run so far\n"
      "  snapshot [<filename>]\n"
      "  detailed_snapshot [<filename>]\n"
      "        takes a snapshot (or a detailed snapshot)\n"
      "        and saves it in <filename>, in massif's format\n"
      "             default <filename> is massif.vgdb.out\n"
      "  all_snapshots [<filename>]\n"
      "        saves all snapshot(s) taken so far in <filename>\n"
      "        (with --massif-out-file only: without it none are taken)\n"
      "             default <filename> is massif.vgdb.out\n"
      "  top [<n>] [bytes|blocks|total|peak]\n"
      "        the <n> sites (default 10) holding the most live bytes now, one line\n"
      "        each, or the most live blocks, bytes allocated over the run, or\n"
      "        bytes at the site's own peak\n"
      "\n",
      vgcompat::kNewLeakSearch ? "new|" : "",
      vgcompat::kNewLeakSearch ? "          new         only records that had no blocks at the previous search\n" : "");
}

// memcheck's words, in its order, so that a word neither tool knows gets
// the same complaint from the core's keyword matcher. "new" is there where
// the Valgrind in use has it (vgcompat::kNewLeakSearch); the switch below
// numbers the words as if it always were.
constexpr const HChar* kLeakCheckWords =
    vgcompat::kNewLeakSearch
        ? "full summary xtleak kinds reachable possibleleak definiteleak heuristics "
          "new increased changed any unlimited limited "
        : "full summary xtleak kinds reachable possibleleak definiteleak heuristics "
          "increased changed any unlimited limited ";
constexpr Int kWordNew = 8;

// Parses leak_check's arguments and runs the search. A bad argument gets a
// one-line message and no search; a bad 'limited' value only the message
// (memcheck then searches anyway, with the previous limit).
void leak_check(ThreadId tid, HChar** save) {
  leak::Params p;
  p.mode = leak::Mode::kFull;
  p.delta = leak::Delta::kIncreased;
  p.show_kinds = leak::bit(leak::kDefinite) | leak::bit(leak::kPossible);
  p.error_kinds = 0;  // an interactive search never counts errors
  p.heuristics = 0;
  p.max_records = 0;
  p.monitor = true;
  bool ok = true;
  for (HChar* w = VG_(strtok_r)(nullptr, " ", save); w; w = VG_(strtok_r)(nullptr, " ", save)) {
    Int id = VG_(keyword_id)(kLeakCheckWords, w, kwd_report_all);
    if (!vgcompat::kNewLeakSearch && id >= kWordNew) id++;
    switch (id) {
      case -2:
      case -1: ok = false; break;  // the matcher has said why
      case 0: p.mode = leak::Mode::kFull; break;
      case 1: p.mode = leak::Mode::kSummary; break;
      case 2:
        VG_(gdb_printf)("xtleak: memtrack writes no xtree leak file; leave xtleak out for a full search\n");
        ok = false;
        break;
      case 3: {
        HChar* set = VG_(strtok_r)(nullptr, " ", save);
        if (!set || !VG_(parse_enum_set)(leak::kKindTokens, True, set, &p.show_kinds)) {
          VG_(gdb_printf)("missing or malformed leak kinds set\n");
          ok = false;
        }
        break;
      }
      case 4: p.show_kinds = leak::kAllKinds; break;
      case 5: p.show_kinds = leak::bit(leak::kDefinite) | leak::bit(leak::kIndirect) | leak::bit(leak::kPossible); break;
      case 6: p.show_kinds = leak::bit(leak::kDefinite); break;
      case 7: {
        HChar* set = VG_(strtok_r)(nullptr, " ", save);
        UInt named = 0;  // bit 0 of Params::heuristics is kHeurNone
        if (!set || !VG_(parse_enum_set)(leak::kHeuristicTokens, True, set, &named)) {
          VG_(gdb_printf)("missing or malformed heuristics set\n");
          ok = false;
        }
        p.heuristics = named << 1;
        break;
      }
      case kWordNew: p.delta = leak::Delta::kNew; break;
      case 9: p.delta = leak::Delta::kIncreased; break;
      case 10: p.delta = leak::Delta::kChanged; break;
      case 11: p.delta = leak::Delta::kAny; break;
      case 12: p.max_records = 0; break;
      case 13: {
        HChar* n = VG_(strtok_r)(nullptr, " ", save);
        HChar* end = nullptr;
        Long v = n ? VG_(strtoll10)(n, &end) : 0;
        if (!n || *end != '\0') VG_(gdb_printf)("missing or malformed integer value\n");
        else if (v <= 0) VG_(gdb_printf)("max_loss_records_output must be >= 1, got %lld\n", v);
        else p.max_records = v > 0xFFFFFFFFLL ? 0 : (UInt)v;
        break;
      }
      default: break;
    }
  }
  if (ok) leak::search(tid, p);
}

HChar* skip_spaces(HChar* s) {
  while (*s == ' ') s++;
  return s;
}

// block_list's <from>[..<to>], read as memcheck reads it (mc_main.c's
// parse_slice), with its answers and its quirks: "2..5", "2 ..5", "2 .. 5"
// and "2..  5" are ranges, "2.. 5" is 2 to 0. memcheck looks up to two
// characters past a token that ends in '.'; handle()'s copy of the line
// has two spare NULs for that. Where memcheck would read a missing <to>
// (and crash), memtrack says it is missing.
bool parse_slice(HChar** save, UInt* from, UInt* to) {
  HChar* end = nullptr;
  HChar* w = VG_(strtok_r)(nullptr, " ", save);
  if (!w) {
    VG_(gdb_printf)("expecting integer or slice <from>..<to>\n");
    return false;
  }
  *from = (UInt)VG_(strtoull10)(w, &end);
  if (end == w) {
    VG_(gdb_printf)("invalid integer or slice <from>..<to>\n");
    return false;
  }
  if (*end == '\0' && *skip_spaces(*save) != '.') {
    *to = *from;
    return true;
  }
  if (*end == '\0') {
    w = VG_(strtok_r)(nullptr, " .", save);
  } else {
    if (*end != '.' && end[1] != '.') {
      VG_(gdb_printf)("expecting slice <from>..<to>\n");
      return false;
    }
    w = end[2] == ' ' ? VG_(strtok_r)(nullptr, " .", save) : end + 2;
  }
  if (w) *to = (UInt)VG_(strtoull10)(w, &end);
  if (!w || *end != '\0') {
    VG_(gdb_printf)("missing/wrong 'to' of slice <from>..<to>\n");
    return false;
  }
  if (*from > *to) {
    VG_(gdb_printf)("<from> cannot be bigger than <to> in slice <from>..<to>\n");
    return false;
  }
  return true;
}

// memcheck's block_list: a bad option gets its one line and no list.
void block_list(HChar** save) {
  UInt from = 0, to = 0;
  if (!parse_slice(save, &from, &to)) return;
  UInt limit = 999999999;  // memcheck's "unlimited"
  UInt heuristics = 0;
  for (HChar* w = VG_(strtok_r)(nullptr, " ", save); w; w = VG_(strtok_r)(nullptr, " ", save)) {
    switch (VG_(keyword_id)("unlimited limited heuristics ", w, kwd_report_all)) {
      case -2:
      case -1: return;  // the matcher has said why
      case 0: limit = 999999999; break;
      case 1: {
        HChar* n = VG_(strtok_r)(nullptr, " ", save);
        if (!n) {
          VG_(gdb_printf)("missing integer value\n");
          return;
        }
        HChar* end = nullptr;
        Int v = (Int)VG_(strtoll10)(n, &end);  // memcheck keeps an Int
        if (*end != '\0') {
          VG_(gdb_printf)("malformed integer value\n");
          return;
        }
        if (v <= 0) {
          VG_(gdb_printf)("max_blocks must be >= 1, got %d\n", v);
          return;
        }
        limit = (UInt)v;
        break;
      }
      case 2: {
        HChar* set = VG_(strtok_r)(nullptr, " ", save);
        UInt named = 0;  // bit 0 of the set is kHeurNone, which has no name
        if (!set || !VG_(parse_enum_set)(leak::kHeuristicTokens, True, set, &named)) {
          VG_(gdb_printf)("missing or malformed heuristics set\n");
          return;
        }
        heuristics = named << 1;
        break;
      }
      default: break;
    }
  }
  // Records are numbered from 1; memcheck's own check of <from> comes first.
  if (from == 0 || !leak::block_list(from - 1, to - 1, limit, heuristics))
    VG_(gdb_printf)("invalid loss record nr\n");
}

void who_points_at(HChar** save) {
  Addr a = 0;
  SizeT len = 1;
  if (!VG_(strtok_get_address_and_size)(&a, &len, save)) return;  // it has said why
  if (a == 0) {
    VG_(gdb_printf)("Cannot search who points at 0x0\n");
    return;
  }
  leak::who_points_at(a, len);
}

void needs_memcheck(const HChar* command) {
  VG_(gdb_printf)("%s: memtrack keeps no definedness bits; this command needs memcheck (--tool=memcheck)\n", command);
}


// ---- commands for watching a running program --------------------------------

// The next word, or null; a second word is a complaint (the commands
// below take at most one argument of each kind).
const HChar* file_arg(HChar** save, const HChar* command) {
  HChar* name = VG_(strtok_r)(nullptr, " ", save);
  if (name && VG_(strtok_r)(nullptr, " ", save)) {
    VG_(gdb_printf)("%s: one <filename> only (no spaces in it)\n", command);
    return reinterpret_cast<const HChar*>(-1);
  }
  return name;
}

// Whether a name is safe for the core's expansion, which stops the whole
// run on a bad % or an unset %q{VAR} (right for options read at start-up,
// wrong for a command sent to a running server). Says why not.
bool expandable(const HChar* name) {
  if (name[0] == '~') {
    VG_(gdb_printf)("dump_profile: the file name begins with '~', which nothing expands: use an absolute path\n");
    return false;
  }
  for (const HChar* c = name; *c; c++) {
    if (*c != '%') continue;
    c++;
    if (*c == '%' || *c == 'p' || *c == 'n') continue;
    if (*c == 'q' && c[1] == '{') {
      const HChar* end = VG_(strchr)(c + 2, '}');
      if (!end) {
        VG_(gdb_printf)("dump_profile: missing '}' in %%q specifier\n");
        return false;
      }
      HChar var[256];
      SizeT n = end - (c + 2);
      if (n >= sizeof var) n = sizeof var - 1;
      VG_(memcpy)(var, c + 2, n);
      var[n] = 0;
      if (!VG_(getenv)(var)) {
        VG_(gdb_printf)("dump_profile: environment variable '%s' is not set\n", var);
        return false;
      }
      c = end;
      continue;
    }
    VG_(gdb_printf)("dump_profile: expected 'p', 'n', 'q' or '%%' after '%%'\n");
    return false;
  }
  return true;
}

void dump_profile(HChar** save) {
  const HChar* name = file_arg(save, "dump_profile");
  if (name == reinterpret_cast<const HChar*>(-1)) return;
  if (!name) name = "memtrack.vgdb.out.%p";
  if (!expandable(name)) return;
  HChar* path = profile::expand_path(name);
  if (profile::write(path)) VG_(gdb_printf)("profile written to %s\n", path);
  else VG_(gdb_printf)("dump_profile: %s not written\n", path);
  dealloc(path);
}

void heap_stats() {
  const Totals& t = sites::totals();
  // DHAT's labels and widths, as at the end of the run.
  VG_(gdb_printf)("Now:       %'llu bytes in %'llu blocks\n", t.cur_bytes, t.cur_blocks);
  VG_(gdb_printf)("At t-gmax: %'llu bytes in %'llu blocks\n", t.max_bytes, t.max_blocks);
  VG_(gdb_printf)("Total:     %'llu bytes in %'llu blocks\n", t.tot_bytes, t.tot_blocks);
  VG_(gdb_printf)("Instrs:    %'llu\n", g_instrs);
}

// massif's monitor commands: its default name, no expansion (massif's own
// commands open the name as given), a line only when it went wrong.
void snapshot(HChar** save, bool detailed, bool all) {
  const HChar* cmd = all ? "all_snapshots" : detailed ? "detailed_snapshot" : "snapshot";
  const HChar* name = file_arg(save, cmd);
  if (name == reinterpret_cast<const HChar*>(-1)) return;
  if (!name) name = "massif.vgdb.out";
  if (all) {
    if (!g_opts.massif_out_file)
      VG_(gdb_printf)("all_snapshots: snapshots are taken over the run only with --massif-out-file=<file>; "
                      "'snapshot' and 'detailed_snapshot' work without it\n");
    else if (!massif::write_all_snapshots(name))
      VG_(gdb_printf)("all_snapshots: %s not written\n", name);
    return;
  }
  if (!massif::write_snapshot_now(name, detailed)) VG_(gdb_printf)("%s: %s not written\n", cmd, name);
}

enum Metric { kLiveBytes, kLiveBlocks, kTotalBytes, kPeakBytes };

ULong metric_of(const Site* s, Metric m) {
  switch (m) {
    case kLiveBlocks: return s->cur_blocks;
    case kTotalBytes: return s->tot_bytes;
    case kPeakBytes: return s->max_bytes;
    default: return s->cur_bytes;
  }
}

void top(HChar** save) {
  ULong n = 10;
  Metric m = kLiveBytes;
  for (HChar* w = VG_(strtok_r)(nullptr, " ", save); w; w = VG_(strtok_r)(nullptr, " ", save)) {
    if (*w >= '0' && *w <= '9') {
      HChar* end = nullptr;
      Long v = VG_(strtoll10)(w, &end);
      if (*end != '\0' || v <= 0) {
        VG_(gdb_printf)("top: <n> must be a number >= 1, got %s\n", w);
        return;
      }
      n = (ULong)v;
      continue;
    }
    switch (VG_(keyword_id)("bytes blocks total peak ", w, kwd_report_all)) {
      case -2:
      case -1: return;  // the matcher has said why
      case 0: m = kLiveBytes; break;
      case 1: m = kLiveBlocks; break;
      case 2: m = kTotalBytes; break;
      case 3: m = kPeakBytes; break;
      default: return;
    }
  }
  // The n biggest, by insertion into a sorted list of at most n: sites
  // are thousands, n is small.
  Vec<Site*> best;
  best.init("mt.monitor.top");
  sites::each([&](Site* s) {
    ULong v = metric_of(s, m);
    if (v == 0) return;
    SizeT i = best.size();
    while (i > 0 && metric_of(best[i - 1], m) < v) i--;
    if (i >= n) return;
    best.insert_at(i, s);
    if (best.size() > n) best.pop();
  });
  static const HChar* const kWhat[] = {"live bytes", "live blocks", "bytes allocated", "bytes at the site's peak"};
  VG_(gdb_printf)("%llu site%s with the most %s (now %'llu bytes in %'llu blocks live)\n", (ULong)best.size(),
                  best.size() == 1 ? "" : "s", kWhat[m], sites::totals().cur_bytes, sites::totals().cur_blocks);
  StrBuf label;
  label.init("mt.monitor.label");
  for (SizeT i = 0; i < best.size(); i++) {
    const Site* s = best[i];
    label.clear();
    label::site_name(s->ec, &label);
    VG_(gdb_printf)("%3llu: %'llu bytes in %'llu blocks live, %'llu in %'llu allocated, peak %'llu: %s\n",
                    (ULong)i + 1, s->cur_bytes, s->cur_blocks, s->tot_bytes, s->tot_blocks, s->max_bytes,
                    label.c_str());
  }
  label.free();
  best.free();
}

}  // namespace

bool handle(ThreadId tid, const HChar* command) {
  // strtok_r writes into the copy; two spare NULs for parse_slice.
  SizeT n = VG_(strlen)(command);
  HChar* line = static_cast<HChar*>(alloc_zeroed("mt.monitor.line", n + 3));
  VG_(memcpy)(line, command, n);
  HChar* save = nullptr;
  HChar* word = VG_(strtok_r)(line, " ", &save);
  bool mine = true;
  // memcheck's words in memcheck's order: the same abbreviations resolve
  // to the same commands ("w" is who_points_at, "x" is ambiguous).
  // memtrack's own words come after memcheck's; an abbreviation of "help"
  // still means help, as under memcheck ("h", "he", not heap_stats).
  Int id = -1;
  if (word) {
    SizeT wl = VG_(strlen)(word);
    id = wl <= 4 && VG_(strncmp)(word, "help", wl) == 0
             ? 0
             : VG_(keyword_id)("help get_vbits leak_check make_memory check_memory block_list who_points_at xb "
                               "xtmemory dump_profile heap_stats snapshot detailed_snapshot all_snapshots top",
                               word, kwd_report_duplicated_matches);
  }
  switch (id) {
    case -2: break;  // ambiguous: the matcher has said so
    case 0: help(); break;
    case 1: needs_memcheck("get_vbits"); break;
    case 2: leak_check(tid, &save); break;
    case 3: needs_memcheck("make_memory"); break;
    case 4: needs_memcheck("check_memory"); break;
    case 5: block_list(&save); break;
    case 6: who_points_at(&save); break;
    case 7: needs_memcheck("xb"); break;
    case 8: VG_(gdb_printf)("xtmemory: memtrack writes no xtree memory file\n"); break;
    case 9: dump_profile(&save); break;
    case 10: heap_stats(); break;
    case 11: snapshot(&save, false, false); break;
    case 12: snapshot(&save, true, false); break;
    case 13: snapshot(&save, false, true); break;
    case 14: top(&save); break;
    default: mine = false; break;
  }
  dealloc(line);
  return mine;
}

}  // namespace mt::monitor
