// Monitor commands. The core passes every command line here (after its own
// v.* commands and its part of `help`); what memtrack prints goes back to
// vgdb or gdb. memcheck's commands that need no definedness bits
// (`leak_check`, `block_list`, `who_points_at`) take memcheck's arguments,
// with memcheck's defaults, answers and one-line complaints, so scripts
// written for memcheck work. The others are recognised by the same words
// (so abbreviations resolve as under memcheck) and answered with a line
// saying why memtrack has no such command.
#include "mt_monitor.h"
#include "mt_leak.h"

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
  switch (word ? VG_(keyword_id)("help get_vbits leak_check make_memory check_memory block_list who_points_at xb "
                                 "xtmemory",
                                 word, kwd_report_duplicated_matches)
               : -1) {
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
    default: mine = false; break;
  }
  dealloc(line);
  return mine;
}

}  // namespace mt::monitor
