// memcheck's leak vocabulary: search modes, the four kinds of blocks a
// search finds, its heuristics, and every name each goes by in memtrack's
// outputs, in one table. The options, the errors, the leak checker, the CI
// gates (summary file, SARIF) and the monitor commands read it; none of them
// needs the leak checker itself for it.
#pragma once

#include "mt_rt.h"

namespace mt::leak {

// memcheck's reachedness states, in its sort order.
enum Kind : UChar { kReachable = 0, kPossible = 1, kIndirect = 2, kDefinite = 3 };
constexpr UInt kKindBits = 4;
inline UInt bit(Kind k) { return 1u << k; }
constexpr UInt kAllKinds = (1u << kKindBits) - 1;

enum class Mode : UChar { kNo, kSummary, kFull };
// kNew: records with blocks now and none at the previous search (memcheck
// 3.21+, vgcompat::kNewLeakSearch).
enum class Delta : UChar { kAny, kIncreased, kChanged, kNew };

// memcheck's heuristics, in the order they are tried.
enum Heuristic : UChar { kHeurNone = 0, kStdString = 1, kLength64 = 2, kNewArray = 3, kMultipleInheritance = 4 };
constexpr UInt kNumHeuristics = 5;

// The names of one kind, each where memcheck (or the format) uses it.
struct KindNames {
  const char* token;  // --show-leak-kinds, match-leak-kinds:, the summary file's keys: "definite"
  const char* words;  // loss records, SARIF messages: "definitely lost"
  const char* label;  // the LEAK SUMMARY's line, right-aligned: "   definitely lost"
  const char* xml;    // the XML error's <kind>: "Leak_DefinitelyLost"
  const char* tag;    // protocol 6's <leak_summary> element: "definitely_lost"
  const char* rule;   // the SARIF rule id: "definitely-lost"
  const char* rule_text;  // the SARIF rule's short description (none for reachable: no defect)
  const char* part;   // one part of a "lost" figure: "1,960 bytes lost (320 definitely, 1,640 indirectly)"
};
constexpr KindNames kKindNames[kKindBits] = {
    {"reachable", "still reachable", "   still reachable", "Leak_StillReachable", "still_reachable",
     "still-reachable", nullptr, "still reachable"},
    {"possible", "possibly lost", "     possibly lost", "Leak_PossiblyLost", "possibly_lost", "possibly-lost",
     "Heap block reachable only through interior pointers", "possibly"},
    {"indirect", "indirectly lost", "   indirectly lost", "Leak_IndirectlyLost", "indirectly_lost",
     "indirectly-lost", "Heap block reachable only from lost blocks", "indirectly"},
    {"definite", "definitely lost", "   definitely lost", "Leak_DefinitelyLost", "definitely_lost",
     "definitely-lost", "Heap block no longer pointed to at exit", "definitely"},
};
inline const KindNames& names(UInt k) { return kKindNames[k & (kKindBits - 1)]; }

// What memtrack's own figures call "lost" unless --lost-kinds says
// otherwise: definitely + indirectly lost, the blocks nothing outside the
// heap leads to any more (memcheck's VALGRIND_COUNT_LEAKS "leaked", the
// report's red card, memtrack_diff's leak figures). memcheck's
// --errors-for-leak-kinds keeps its own default (definite,possible) and
// meaning: which loss records are errors. docs/manual.md, "What "lost"
// means", lists every consumer.
constexpr UInt kLostKinds = (1u << kDefinite) | (1u << kIndirect);

// "320 definitely, 1,640 indirectly": the parts of a lost figure (bytes by
// Kind) of the kinds in the set, from definite down, into out.
inline void lost_parts(const ULong* bytes, UInt kinds, char* out, SizeT n) {
  SizeT used = 0;
  out[0] = 0;
  for (int k = kDefinite; k >= 0 && used + 1 < n; k--) {
    if (!(kinds & (1u << k))) continue;
    char num[32];
    used += VG_(snprintf)(out + used, (Int)(n - used), "%s%s %s", used ? ", " : "", commas(bytes[k], num, sizeof num),
                          kKindNames[k].part);
  }
}

// The names of the heuristics (bit h of a heuristics set), as the option,
// the summaries and the monitor commands spell them.
constexpr const char* kHeuristicNames[kNumHeuristics] = {"none", "stdstring", "length64", "newarray",
                                                         "multipleinheritance"};

// The same names as VG_(parse_enum_set) takes them: a comma-separated list
// in bit order (the heuristics' without "none", which is no named one).
constexpr const char* kKindTokens = "reachable,possible,indirect,definite";
constexpr const char* kHeuristicTokens = "stdstring,length64,newarray,multipleinheritance";

namespace detail {
// Whether list is names[from..n) joined by commas (checked at compile time
// below, so the two spellings cannot drift apart).
template <class Get> constexpr bool is_list(const char* list, UInt from, UInt n, Get get) {
  for (UInt i = from; i < n; i++) {
    if (i > from && *list++ != ',') return false;
    for (const char* s = get(i); *s; s++)
      if (*list++ != *s) return false;
  }
  return *list == 0;
}
}  // namespace detail
static_assert(detail::is_list(kKindTokens, 0, kKindBits, [](UInt i) { return kKindNames[i].token; }),
              "kKindTokens must list kKindNames' tokens in bit order");
static_assert(detail::is_list(kHeuristicTokens, 1, kNumHeuristics, [](UInt i) { return kHeuristicNames[i]; }),
              "kHeuristicTokens must list the named heuristics in bit order");

}  // namespace mt::leak
