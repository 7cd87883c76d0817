// Site accounting. The t-gmax snapshot is lazy: DHAT copies every site's
// live figures whenever the heap leaves a peak (O(sites) each time). Here
// each new peak starts an epoch; a site saves its live figures the first
// time it changes within an epoch, and a site untouched since the last peak
// still holds what it held then. Same numbers, O(1) per event.
#include "mt_sites.h"
#include "mt_options.h"

namespace mt {

ULong g_instrs = 0;

namespace sites {

PtrMap<Site> g_by_ec;

namespace {
Totals g_tot;
ULong g_peak_epoch;
Pool<Site> g_pool;

// Called before any change to s's live figures.
inline void snapshot_if_needed(Site* s) {
  if (s->gmax_epoch != g_peak_epoch) {
    s->gmax_bytes = s->cur_bytes;
    s->gmax_blocks = s->cur_blocks;
    s->gmax_epoch = g_peak_epoch;
  }
}

// Called after live bytes went up or stayed level; '>=' records the latest
// of equal peaks, as DHAT does.
inline void note_growth(Site* s) {
  if (g_tot.cur_bytes >= g_tot.max_bytes) {
    g_tot.max_bytes = g_tot.cur_bytes;
    g_tot.max_blocks = g_tot.cur_blocks;
    g_tot.tgmax = g_instrs;
    g_peak_epoch++;
  }
  if (s->cur_bytes >= s->max_bytes) {
    s->max_bytes = s->cur_bytes;
    s->max_blocks = s->cur_blocks;
  }
}
}  // namespace

void init() {
  g_by_ec.init("mt.sites.map", 1024);
  g_pool.init("mt.sites.pool", 256);
  VG_(memset)(&g_tot, 0, sizeof g_tot);
  g_peak_epoch = 1;
}

Site* of(ExeContext* ec) {
  Site* s = g_by_ec.get(reinterpret_cast<UWord>(ec));
  if (s) return s;
  s = g_pool.get();
  VG_(memset)(s, 0, sizeof *s);
  s->ec = ec;
  s->gmax_epoch = g_peak_epoch;  // held nothing at any earlier peak
  g_by_ec.put(reinterpret_cast<UWord>(ec), s);
  return s;
}

void on_alloc(Site* s, SizeT bytes) {
  snapshot_if_needed(s);
  g_tot.tot_bytes += bytes; g_tot.tot_blocks++;
  g_tot.cur_bytes += bytes; g_tot.cur_blocks++;
  s->tot_bytes += bytes; s->tot_blocks++;
  s->cur_bytes += bytes; s->cur_blocks++;
  note_growth(s);
}

void on_event(Site* s, ULong weight) {
  g_tot.tot_bytes += weight; g_tot.tot_blocks++;
  s->tot_bytes += weight; s->tot_blocks++;
}

void on_free(Site* s, SizeT bytes) {
  snapshot_if_needed(s);
  tl_assert(g_tot.cur_blocks > 0 && g_tot.cur_bytes >= bytes);
  tl_assert(s->cur_blocks > 0 && s->cur_bytes >= bytes);
  g_tot.cur_bytes -= bytes; g_tot.cur_blocks--;
  s->cur_bytes -= bytes; s->cur_blocks--;
  s->freed_blocks++;
}

// realloc counts as one more block of the new size (DHAT's rule), while the
// live figures move by the difference only.
void on_resize(Site* s, SizeT old_bytes, SizeT new_bytes) {
  snapshot_if_needed(s);
  g_tot.tot_bytes += new_bytes; g_tot.tot_blocks++;
  s->tot_bytes += new_bytes; s->tot_blocks++;
  g_tot.cur_bytes = g_tot.cur_bytes - old_bytes + new_bytes;
  s->cur_bytes = s->cur_bytes - old_bytes + new_bytes;
  if (new_bytes >= old_bytes) note_growth(s);
}

void retire(const Block* b) {
  Site* s = b->site;
  tl_assert(g_instrs >= b->alloc_time);
  s->lifetimes += g_instrs - b->alloc_time;
}

void note_size(Site* s, SizeT size) {
  switch (s->size_state) {
    case kSizeUnknown:
      s->size_state = kSizeExactly;
      s->acc_size = size;
      if (size <= g_opts.histogram_limit) s->acc = make_array<UShort>("mt.sites.acc", size);
      break;
    case kSizeExactly:
      if (size != s->acc_size) {
        s->size_state = kSizeMixed;
        dealloc(s->acc);
        s->acc = nullptr;
      }
      break;
    default:
      break;
  }
}

bool want_histogram(Site* s, SizeT size) {
  if (s->size_state != kSizeExactly || s->acc_size != size) return false;
  if (!s->acc) s->acc = make_array<UShort>("mt.sites.acc", size);
  return true;
}

void access_totals(ULong* reads, ULong* writes) {
  ULong r = 0, w = 0;
  g_by_ec.each([&](UWord, Site* s) { r += s->reads; w += s->writes; });
  *reads = r;
  *writes = w;
}

const Totals& totals() { return g_tot; }

ULong gmax_bytes(const Site* s) { return s->gmax_epoch == g_peak_epoch ? s->gmax_bytes : s->cur_bytes; }
ULong gmax_blocks(const Site* s) { return s->gmax_epoch == g_peak_epoch ? s->gmax_blocks : s->cur_blocks; }

SizeT count() { return g_by_ec.size(); }

}  // namespace sites
}  // namespace mt
