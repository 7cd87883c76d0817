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
};
constexpr KindNames kKindNames[kKindBits] = {
    {"reachable", "still reachable", "   still reachable", "Leak_StillReachable", "still_reachable",
     "still-reachable", nullptr},
    {"possible", "possibly lost", "     possibly lost", "Leak_PossiblyLost", "possibly_lost", "possibly-lost",
     "Heap block reachable only through interior pointers"},
    {"indirect", "indirectly lost", "   indirectly lost", "Leak_IndirectlyLost", "indirectly_lost",
     "indirectly-lost", "Heap block reachable only from lost blocks"},
    {"definite", "definitely lost", "   definitely lost", "Leak_DefinitelyLost", "definitely_lost",
     "definitely-lost", "Heap block no longer pointed to at exit"},
};
inline const KindNames& names(UInt k) { return kKindNames[k & (kKindBits - 1)]; }

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
