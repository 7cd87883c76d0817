// Memory declared undefined, in tool memory: see mt_undef.h for what and why.
//
// One record per page that holds a hidden word: a bit per word and the
// word's value at the request (4,160 bytes). A word that held zero needs no
// record (zero is no pointer, and any later value counts as written), so a
// fresh mapping marked NOACCESS costs nothing, nor does a pool's untouched
// memory: only pages with stale data get records.
#include "mt_undef.h"
#include "mt_arch.h"

namespace mt::undef {

// A record covers a 4 KiB unit, within one page on every kernel (mt_arch.h).
constexpr SizeT kPage = arch::kMinPageSize;
constexpr SizeT kWords = kPage / sizeof(UWord);
constexpr SizeT kBitWords = kWords / (8 * sizeof(UWord));

struct Page {
  UWord bits[kBitWords];
  UWord snap[kWords];
  SizeT n;  // words hidden
};

SizeT g_pages;

namespace {

// Copies cost 4 KiB per page of hidden data; beyond this a program's
// requests are not remembered (their words count as pointers).
constexpr SizeT kMaxPages = (SizeT(64) << 20) / kPage;

PtrMap<Page> g_map;
bool g_ready;
ULong g_dropped;
UWord g_buf[kWords];

void ready() {
  if (g_ready) return;
  g_map.init("mt.undef.pages", 64);
  g_ready = true;
}

inline SizeT index_of(Addr a) { return (a & (kPage - 1)) / sizeof(UWord); }
inline bool test(const Page* p, SizeT i) { return (p->bits[i / (8 * sizeof(UWord))] >> (i % (8 * sizeof(UWord)))) & 1; }

void clear(Page* p, SizeT i) {
  if (!test(p, i)) return;
  p->bits[i / (8 * sizeof(UWord))] &= ~(UWord(1) << (i % (8 * sizeof(UWord))));
  p->n--;
}

void release_if_empty(Addr page_addr, Page* p) {
  if (p->n) return;
  g_map.remove(page_addr / kPage);
  dealloc(p);
  g_pages--;
}

// Reads the words of [from, to) (within one page) into g_buf; false if the
// client could not read them (unmapped, PROT_NONE, a file mapping beyond its
// end).
VG_MINIMAL_JMP_BUF(g_jmp);
void on_fault(Int sig, Addr) {
  if (sig == VKI_SIGSEGV || sig == VKI_SIGBUS) {
    vg_core::unblock_signal(sig);
    VG_MINIMAL_LONGJMP(g_jmp);
  }
}
bool read_words(Addr from, Addr to) {
  if (!VG_(am_is_valid_for_client)(from, to - from, VKI_PROT_READ)) return false;
  fault_catcher_t prev = VG_(set_fault_catcher)(on_fault);
  volatile bool ok = true;
  if (VG_MINIMAL_SETJMP(g_jmp) == 0) {
    for (Addr w = from; w < to; w += sizeof(UWord)) g_buf[index_of(w)] = *reinterpret_cast<const UWord*>(w);
  } else {
    ok = false;
  }
  VG_(set_fault_catcher)(prev);
  return ok;
}

// Clears the words of [from, to) (one page) in the page's record.
void reveal_in_page(Addr page_addr, Addr from, Addr to) {
  Page* p = g_map.get(page_addr / kPage);
  if (!p) return;
  for (Addr w = from; w < to; w += sizeof(UWord)) clear(p, index_of(w));
  release_if_empty(page_addr, p);
}

}  // namespace

void hide(Addr a, SizeT len) {
  if (!len || a + len < a) return;
  ready();
  Addr lo = VG_ROUNDDN(a, sizeof(UWord)), hi = VG_ROUNDUP(a + len, sizeof(UWord));
  for (Addr page_addr = VG_ROUNDDN(lo, kPage); page_addr < hi && page_addr >= VG_ROUNDDN(lo, kPage);
       page_addr += kPage) {
    Addr from = max(lo, page_addr), to = min(hi, page_addr + kPage);
    if (page_addr == 0) continue;  // never client memory; 0 is no map key
    if (!read_words(from, to)) {
      reveal_in_page(page_addr, from, to);  // unknown now: count as pointers
      continue;
    }
    Page* p = g_map.get(page_addr / kPage);
    for (Addr w = from; w < to; w += sizeof(UWord)) {
      SizeT i = index_of(w);
      UWord v = g_buf[i];
      if (v == 0) {
        if (p) clear(p, i);
        continue;
      }
      if (!p) {
        if (g_pages >= kMaxPages) {
          g_dropped++;
          break;
        }
        p = static_cast<Page*>(alloc_zeroed("mt.undef.page", sizeof(Page)));
        g_map.put(page_addr / kPage, p);
        g_pages++;
      }
      if (!test(p, i)) {
        p->bits[i / (8 * sizeof(UWord))] |= UWord(1) << (i % (8 * sizeof(UWord)));
        p->n++;
      }
      p->snap[i] = v;
    }
    if (p) release_if_empty(page_addr, p);
  }
}

void reveal(Addr a, SizeT len) {
  if (!g_pages || !len) return;
  Addr lo = VG_ROUNDUP(a, sizeof(UWord));
  Addr hi = a + len < a ? ~Addr(0) & ~(sizeof(UWord) - 1) : VG_ROUNDDN(a + len, sizeof(UWord));
  if (lo >= hi) return;
  SizeT range_pages = (VG_ROUNDUP(hi, kPage) - VG_ROUNDDN(lo, kPage)) / kPage;
  if (range_pages <= g_pages) {
    for (Addr page_addr = VG_ROUNDDN(lo, kPage); page_addr < hi && page_addr >= VG_ROUNDDN(lo, kPage);
         page_addr += kPage)
      reveal_in_page(page_addr, max(lo, page_addr), min(hi, page_addr + kPage));
    return;
  }
  // A big range (an unmapping) with few records: visit the records.
  Vec<UWord> keys;
  keys.init("mt.undef.keys");
  g_map.each([&](UWord key, Page*) {
    Addr page_addr = key * kPage;
    if (page_addr + kPage > lo && page_addr < hi) keys.push(key);
  });
  for (UWord key : keys) {
    Addr page_addr = key * kPage;
    reveal_in_page(page_addr, max(lo, page_addr), min(hi, page_addr + kPage));
  }
  keys.free();
}

const Page* page(Addr a) { return g_pages ? g_map.get(a / kPage) : nullptr; }

bool unwritten(const Page* pg, Addr a, UWord w) {
  SizeT i = index_of(a);
  return test(pg, i) && pg->snap[i] == w;
}

void stats(ULong* pages, ULong* dropped) {
  *pages = g_pages;
  *dropped = g_dropped;
}

}  // namespace mt::undef
