// DHAT-format profile writer. Layout follows DHAT's own output (comma-first
// lines, short keys) so that files diff cleanly against DHAT's; every string
// goes through StrBuf::append_json so any program name, argument or symbol
// gives valid JSON.
#include "mt_profile.h"
#include "mt_store.h"
#include "mt_options.h"
#include "mt_sites.h"
#include "mt_leak.h"
#include "mt_access.h"

namespace mt::profile {

namespace {

// One program point of the output: a site, or several sites whose stacks
// became equal once allocator frames were dropped (dh_view rejects repeated
// stacks).
struct PP {
  Site* site;        // first site
  Vec<UInt> frames;  // indexes into the frame table, innermost first
  UWord hash;
  ULong tb, tbk, tl, mb, mbk, gb, gbk, eb, ebk, rb, wb, tmpb, tmpbk;
  ULong lk_bytes[4], lk_blocks[4];  // leak figures by leak::Kind
  const UShort* acc;
  SizeT acc_size;
  bool merged;
};

// Allocator frames (our preload's malloc/new/...) say nothing about the
// program; upstream DHAT drops them too (by file name, which Debian's
// stripped preload defeats). Copy mode keeps the copy function's frame.
bool is_allocator_frame(const char* text) {
  return VG_(strstr)(text, "vgpreload_memtrack-") != nullptr || VG_(strstr)(text, "vg_replace_malloc.c") != nullptr;
}

struct FrameWalk {
  StrIndex* ftbl;
  Vec<UInt>* out;
  bool drop_alloc;
};

// Called for each IP of a stack (innermost first); inlined calls at an IP
// give one frame each, with the same address, as in DHAT's files.
void add_frames(UInt, DiEpoch ep, Addr ip, void* opaque) {
  FrameWalk* w = static_cast<FrameWalk*>(opaque);
  InlIPCursor* cur = VG_(new_IIPC)(ep, ip);
  do {
    const HChar* text = sites::frame_text(ep, ip, cur);
    // Only the leading allocator frames are dropped.
    if (w->drop_alloc && w->out->empty() && is_allocator_frame(text)) continue;
    w->out->push(w->ftbl->intern(text));
  } while (VG_(next_IIPC)(cur));
  VG_(delete_IIPC)(cur);
}

void frames_of(ExeContext* ec, StrIndex* ftbl, Vec<UInt>* out) {
  FrameWalk w = {ftbl, out, g_opts.mode == Mode::kHeap};
  VG_(apply_ExeContext)(add_frames, &w, ec);
}

UWord hash_frames(const Vec<UInt>& f) {
  UWord h = f.size();
  for (SizeT i = 0; i < f.size(); i++) h = hash_word(h ^ f[i]) + i;
  return h;
}

bool same_frames(const Vec<UInt>& a, const Vec<UInt>& b) {
  if (a.size() != b.size()) return false;
  for (SizeT i = 0; i < a.size(); i++)
    if (a[i] != b[i]) return false;
  return true;
}

void write_acc(OutFile& f, const UShort* h, SizeT n) {
  // Run-length coding as DHAT writes it: "-N,v" for N copies of v.
  f.puts("  ,\"acc\":[");
  bool first = true;
  for (SizeT i = 0; i < n;) {
    SizeT j = i + 1;
    while (j < n && h[j] == h[i]) j++;
    if (!first) f.puts(",");
    first = false;
    if (j - i > 1) f.printf("-%lu,%u", (unsigned long)(j - i), (unsigned)h[i]);
    else f.printf("%u", (unsigned)h[i]);
    i = j;
  }
  f.puts("]\n");
}

void write_string_field(OutFile& f, const char* key, const char* value) {
  StrBuf b;
  b.init("mt.profile.str");
  b.appendf(",\"%s\":\"", key);
  b.append_json(value);
  b.append("\"\n");
  f.write(b.c_str(), b.len());
  b.free();
}

}  // namespace

HChar* expand_path(const char* templ) { return VG_(expand_file_name)("--dhat-out-file", templ); }

bool write(const char* path) {
  const bool heap_mode = g_opts.mode == Mode::kHeap;
  const bool accesses = heap_mode && g_opts.access_tracking;
  const bool leaks = heap_mode && leak::exit_analysed();
  const ULong now = g_instrs;
  access::fold_counts();  // the owned granules' counts into their sites

  // Lifetimes of blocks still live run to now.
  sites::each([](Site* s) { s->scratch = 0; });
  store::index().each([&](const Block* b) { b->site->scratch += now - b->alloc_time; });

  StrIndex ftbl;
  ftbl.init("mt.profile.ftbl");
  ftbl.intern("[root]");

  Vec<PP*> pps;
  pps.init("mt.profile.pps");
  PtrMap<PP> by_hash;  // first PP with a given frame hash (chains by probing below)
  by_hash.init("mt.profile.byhash", 1024);
  Vec<PP*> collisions;
  collisions.init("mt.profile.coll");

  sites::each([&](Site* s) {
    if (s->tot_blocks == 0) return;  // e.g. heap sites in copy mode
    PP* pp = static_cast<PP*>(alloc_zeroed("mt.profile.pp", sizeof(PP)));
    pp->site = s;
    pp->frames.init("mt.profile.frames");
    frames_of(s->ec, &ftbl, &pp->frames);
    pp->hash = hash_frames(pp->frames) | 1;  // nonzero key
    pp->tb = s->tot_bytes; pp->tbk = s->tot_blocks;
    pp->tl = s->lifetimes + s->scratch;
    pp->mb = s->max_bytes; pp->mbk = s->max_blocks;
    pp->gb = sites::gmax_bytes(s); pp->gbk = sites::gmax_blocks(s);
    pp->eb = s->cur_bytes; pp->ebk = s->cur_blocks;
    pp->rb = s->reads; pp->wb = s->writes;
    pp->tmpb = s->tmp_bytes; pp->tmpbk = s->tmp_blocks;
    for (UInt k = 0; k < 4; k++) { pp->lk_bytes[k] = s->leak_bytes[k]; pp->lk_blocks[k] = s->leak_blocks[k]; }
    if (s->size_state == kSizeExactly && s->acc) { pp->acc = s->acc; pp->acc_size = s->acc_size; }

    // Merge into an earlier PP with the same stack, if any.
    PP* twin = by_hash.get(pp->hash);
    if (twin && !same_frames(twin->frames, pp->frames)) {
      twin = nullptr;
      for (SizeT i = 0; i < collisions.size(); i++)
        if (collisions[i]->hash == pp->hash && same_frames(collisions[i]->frames, pp->frames)) twin = collisions[i];
      if (!twin) collisions.push(pp);
    }
    if (twin) {
      twin->tb += pp->tb; twin->tbk += pp->tbk; twin->tl += pp->tl;
      Site* g = twin->site->group;
      if (g && g == pp->site->group) {
        // Stacks equal but for allocator frames: the group tracked the
        // combined peak as it happened.
        twin->mb = g->grp_max_bytes; twin->mbk = g->grp_max_blocks;
      } else {
        // Equal only as text (rare): the sum of the parts' peaks bounds it.
        twin->mb += pp->mb; twin->mbk += pp->mbk;
      }
      twin->gb += pp->gb; twin->gbk += pp->gbk;
      twin->eb += pp->eb; twin->ebk += pp->ebk;
      twin->rb += pp->rb; twin->wb += pp->wb;
      twin->tmpb += pp->tmpb; twin->tmpbk += pp->tmpbk;
      for (UInt k = 0; k < 4; k++) { twin->lk_bytes[k] += pp->lk_bytes[k]; twin->lk_blocks[k] += pp->lk_blocks[k]; }
      if (twin->acc && pp->acc && twin->acc_size == pp->acc_size) {
        // Same block size: per-offset counts add up (saturating).
        UShort* sum = make_array<UShort>("mt.profile.acc", twin->acc_size);
        for (SizeT i = 0; i < twin->acc_size; i++) {
          UInt v = (UInt)twin->acc[i] + pp->acc[i];
          sum[i] = v > 0xFFFF ? 0xFFFF : (UShort)v;
        }
        twin->acc = sum;
      } else {
        twin->acc = nullptr;  // different sizes: no per-offset sum
      }
      twin->merged = true;
      pp->frames.free();
      dealloc(pp);
      return;
    }
    if (!by_hash.get(pp->hash)) by_hash.put(pp->hash, pp);
    pps.push(pp);
  });

  OutFile f;
  if (!f.open_output("memtrack profile", path)) {
    for (SizeT i = 0; i < pps.size(); i++) { pps[i]->frames.free(); dealloc(pps[i]); }
    return false;
  }

  f.puts("{\"dhatFileVersion\":2\n");
  switch (g_opts.mode) {
    case Mode::kHeap:
      f.puts(",\"mode\":\"heap\",\"verb\":\"Allocated\"\n");
      f.printf(",\"bklt\":true,\"bkacc\":%s\n", accesses ? "true" : "false");
      break;
    case Mode::kCopy:
      f.puts(",\"mode\":\"copy\",\"verb\":\"Copied\"\n,\"bklt\":false,\"bkacc\":false\n");
      break;
    case Mode::kAdHoc:
      f.puts(",\"mode\":\"ad-hoc\",\"verb\":\"Occurred\"\n,\"bklt\":false,\"bkacc\":false\n");
      f.puts(",\"bu\":\"unit\",\"bsu\":\"units\",\"bksu\":\"events\"\n");
      break;
  }
  f.puts(",\"tu\":\"instrs\",\"Mtu\":\"Minstr\"\n");
  if (heap_mode) f.puts(",\"tuth\":500\n");

  {
    StrBuf cmd;
    cmd.init("mt.profile.cmd");
    client_command_line(&cmd);
    write_string_field(f, "cmd", cmd.c_str());
    cmd.free();
  }
  f.printf(",\"pid\":%d\n", VG_(getpid)());
  // Extra keys (the viewer ignores them): the parent's pid, to rebuild a
  // process tree, and the wall-clock milliseconds since Valgrind started,
  // for rates per second between two profiles of one run.
  f.printf(",\"mtppid\":%d,\"mtms\":%u\n", VG_(getppid)(), VG_(read_millisecond_timer)());
  f.printf(",\"te\":%llu\n", now);
  if (heap_mode) f.printf(",\"tg\":%llu\n", sites::totals().tgmax);
  if (leaks) f.puts(",\"mtleak\":true\n");
  // Every program point has tmpb/tmpbk (temporary blocks), in heap mode.
  if (heap_mode) f.puts(",\"mttemp\":true\n");

  f.puts(",\"pps\":\n");
  if (pps.empty()) f.puts(" [\n");
  for (SizeT i = 0; i < pps.size(); i++) {
    const PP* pp = pps[i];
    f.printf(" %c{\"tb\":%llu,\"tbk\":%llu\n", i == 0 ? '[' : ',', pp->tb, pp->tbk);
    if (heap_mode) {
      f.printf("  ,\"tl\":%llu\n", pp->tl);
      f.printf("  ,\"mb\":%llu,\"mbk\":%llu\n", pp->mb, pp->mbk);
      f.printf("  ,\"gb\":%llu,\"gbk\":%llu\n", pp->gb, pp->gbk);
      f.printf("  ,\"eb\":%llu,\"ebk\":%llu\n", pp->eb, pp->ebk);
      // Extra keys (the viewer ignores them): temporary blocks.
      f.printf("  ,\"tmpb\":%llu,\"tmpbk\":%llu\n", pp->tmpb, pp->tmpbk);
      if (accesses) {
        f.printf("  ,\"rb\":%llu,\"wb\":%llu\n", pp->rb, pp->wb);
        if (pp->acc) write_acc(f, pp->acc, pp->acc_size);
      }
      if (leaks) {
        // Extra keys (the viewer ignores them): bytes and blocks still live
        // at exit by leak kind, from the end-of-run leak search.
        f.printf("  ,\"ldb\":%llu,\"ldbk\":%llu,\"lib\":%llu,\"libk\":%llu\n", pp->lk_bytes[leak::kDefinite],
                 pp->lk_blocks[leak::kDefinite], pp->lk_bytes[leak::kIndirect], pp->lk_blocks[leak::kIndirect]);
        f.printf("  ,\"lpb\":%llu,\"lpbk\":%llu,\"lrb\":%llu,\"lrbk\":%llu\n", pp->lk_bytes[leak::kPossible],
                 pp->lk_blocks[leak::kPossible], pp->lk_bytes[leak::kReachable], pp->lk_blocks[leak::kReachable]);
      }
    }
    f.puts("  ,\"fs\":[");
    for (SizeT k = 0; k < pp->frames.size(); k++) f.printf("%s%u", k ? "," : "", pp->frames[k]);
    f.puts("]\n  }\n");
  }
  f.puts(" ]\n");

  f.puts(",\"ftbl\":\n");
  StrBuf fb;
  fb.init("mt.profile.ftbl.out");
  for (UInt i = 0; i < ftbl.size(); i++) {
    fb.clear();
    fb.appendf(" %c\"", i == 0 ? '[' : ',');
    fb.append_json(ftbl.at(i));
    fb.append("\"\n");
    f.write(fb.c_str(), fb.len());
  }
  fb.free();
  f.puts(" ]\n}\n");

  for (SizeT i = 0; i < pps.size(); i++) { pps[i]->frames.free(); dealloc(pps[i]); }
  return f.close_output();
}

HChar* numbered_path(ULong n, bool at_exit) {
  StrBuf t;
  t.init("mt.profile.path");
  bool has_n = false;
  for (const char* c = g_opts.dhat_out_file; *c; c++) {
    if (c[0] == '%' && c[1] == '%') {  // a literal '%', left for the core
      t.append("%%");
      c++;
    } else if (c[0] == '%' && c[1] == 'n') {
      t.appendf("%llu", n);
      has_n = true;
      c++;
    } else {
      t.append_char(*c);
    }
  }
  if (!has_n && !at_exit) t.appendf(".%llu", n);
  HChar* path = options::output_path("--dhat-out-file", t.c_str());
  t.free();
  return path;
}

namespace {

ULong g_dumps;
ULong g_next_at;  // the clock's value (ms or instructions) of the next dump

ULong clock_now() {
  return g_opts.dump_every_unit == kDumpMs ? (ULong)VG_(read_millisecond_timer)() : g_instrs;
}

// The core calls this each time a thread is about to run (after a system
// call, at each time slice, about every 100,000 blocks): one comparison
// unless a dump is due. A program asleep in a system call writes its next
// dump when it wakes.
void tick(ThreadId, ULong) {
  ULong now = clock_now();
  if (now < g_next_at) return;
  // The next one is a whole interval after this one: a late dump (the
  // program slept) does not make several in a row.
  g_next_at = now + g_opts.dump_every;
  g_dumps++;
  HChar* path = numbered_path(g_dumps, false);
  write(path);
  dealloc(path);
}

}  // namespace

void post_options() {
  if (g_opts.dump_every_unit == kDumpNone) return;
  g_next_at = clock_now() + g_opts.dump_every;
  VG_(track_start_client_code)(tick);
}

ULong dumps_written() { return g_dumps; }

}  // namespace mt::profile
