// Monitor commands. The core passes every command line here (after its own
// v.* commands and its part of `help`); what memtrack prints goes back to
// vgdb or gdb. `leak_check` takes memcheck's arguments, with memcheck's
// defaults and one-line complaints, so scripts written for memcheck work.
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
      case 4: p.show_kinds = (1u << leak::kKindBits) - 1; break;
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

}  // namespace

bool handle(ThreadId tid, const HChar* command) {
  HChar* line = strdup("mt.monitor.line", command);  // strtok_r writes into it
  HChar* save = nullptr;
  HChar* word = VG_(strtok_r)(line, " ", &save);
  bool mine = true;
  switch (word ? VG_(keyword_id)("help leak_check", word, kwd_report_duplicated_matches) : -1) {
    case -2: break;  // ambiguous: the matcher has said so
    case 0: help(); break;
    case 1: leak_check(tid, &save); break;
    default: mine = false; break;
  }
  dealloc(line);
  return mine;
}

}  // namespace mt::monitor
