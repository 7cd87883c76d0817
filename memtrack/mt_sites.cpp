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

namespace {
Addr g_preload_lo = 1, g_preload_hi = 0;  // memtrack's preload text, once seen
}  // namespace

bool in_preload(Addr ip) {
  if (ip >= g_preload_lo && ip <= g_preload_hi) return true;
  const NSegment* seg = VG_(am_find_nsegment)(ip);
  if (!seg || seg->kind != SkFileC) return false;
  const HChar* name = VG_(am_get_filename)(seg);
  if (!name || !VG_(strstr)(name, "vgpreload_memtrack-")) return false;
  g_preload_lo = seg->start;
  g_preload_hi = seg->end;
  return true;
}

const HChar* frame_text(DiEpoch ep, Addr ip, InlIPCursor* cursor) {
  Bool xml = VG_(clo_xml);
  VG_(clo_xml) = False;
  const HChar* text = VG_(describe_IP)(ep, ip, cursor);
  VG_(clo_xml) = xml;
  return text;
}

PtrMap<Site> g_by_ec;

namespace {

// ---- grouping sites by their stacks without allocator frames --------------

PtrMap<Site> g_by_program_stack;  // hash of the program's part of a stack -> first site

struct StackWalk {
  bool leading;  // still in the leading allocator frames
  UWord hash;
  UInt n;
  Addr ips[64];
};

void walk_ip(UInt, DiEpoch, Addr ip, void* opaque) {
  StackWalk* w = static_cast<StackWalk*>(opaque);
  if (w->leading && in_preload(ip)) return;
  w->leading = false;
  w->hash = hash_word(w->hash ^ ip) + w->n;
  if (w->n < 64) w->ips[w->n] = ip;
  w->n++;
}

void program_stack(ExeContext* ec, StackWalk* w) {
  w->leading = true;
  w->hash = 0x243F6A8885A308D3ULL;
  w->n = 0;
  VG_(apply_ExeContext)(walk_ip, w, ec);
}

// Puts a new site in the group of an earlier one with the same program stack.
void join_group(Site* s) {
  StackWalk w;
  program_stack(s->ec, &w);
  UWord key = w.hash | 1;
  Site* first = g_by_program_stack.get(key);
  if (!first) { g_by_program_stack.put(key, s); return; }
  StackWalk v;
  program_stack(first->ec, &v);
  if (v.n != w.n || VG_(memcmp)(v.ips, w.ips, min<UInt>(w.n, 64) * sizeof(Addr)) != 0) return;  // hash collision
  if (!first->group) {
    first->group = first;
    first->grp_cur_bytes = first->cur_bytes;
    first->grp_cur_blocks = first->cur_blocks;
    first->grp_max_bytes = first->max_bytes;
    first->grp_max_blocks = first->max_blocks;
  }
  s->group = first;
}

// Keeps the group's live figures and peak after s changed by the deltas.
inline void group_moved(Site* s, Long bytes, Long blocks) {
  Site* g = s->group;
  if (!g) return;
  g->grp_cur_bytes += bytes;
  g->grp_cur_blocks += blocks;
  if (bytes >= 0 && g->grp_cur_bytes >= g->grp_max_bytes) {
    g->grp_max_bytes = g->grp_cur_bytes;
    g->grp_max_blocks = g->grp_cur_blocks;
  }
}

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
  g_by_program_stack.init("mt.sites.bystack", 1024);
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
  join_group(s);
  return s;
}

void on_alloc(Site* s, SizeT bytes) {
  snapshot_if_needed(s);
  g_tot.tot_bytes += bytes; g_tot.tot_blocks++;
  g_tot.cur_bytes += bytes; g_tot.cur_blocks++;
  s->tot_bytes += bytes; s->tot_blocks++;
  s->cur_bytes += bytes; s->cur_blocks++;
  note_growth(s);
  group_moved(s, (Long)bytes, 1);
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
  group_moved(s, -(Long)bytes, -1);
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
  group_moved(s, (Long)new_bytes - (Long)old_bytes, 0);
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
  if (!s->acc) {
    s->acc = make_array<UShort>("mt.sites.acc", size);  // (the caller empties the access cache)
  }
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
