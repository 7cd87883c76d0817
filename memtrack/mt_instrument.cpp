// Instrumentation. Time is guest instructions: the count of IMarks since the
// last update is added to g_instrs before each side exit and at the end of
// the superblock (exact, as in DHAT). Each memory access gets, before it:
//   byte = heap_granules[(addr >> 14) & mask]    (inline, no call; mt_access.h)
//   if (byte [&& guard]) on_read/on_write(addr, size)
// DHAT instead calls for every access not within 16 KiB of the stack
// pointer; the granule filter also skips globals, libraries and mappings,
// and it needs no stack-pointer special case (stacks are never heap).
// The same code serves amd64 and arm64: their IR is alike (64-bit,
// little-endian; an arm64 ldp/stp is two loads/stores, a ldxr/stxr an
// LLSC), the stack pointer's offset comes from the guest layout, and the
// one number that differs, the red zone below SP, from mt_arch.h. The
// amd64 words below (push, rsp) name the common case there; an arm64
// frame is one 16-byte fall of SP (stp x29, x30, [sp, #-16]! or sub sp).
#include "mt_instrument.h"
#include "mt_access.h"
#include "mt_options.h"
#include "mt_deadstack.h"
#include "mt_sites.h"
#include "mt_fastcall.h"
#include "mt_arch.h"

namespace mt::instrument {

namespace {

IRExpr* u64(ULong v) { return IRExpr_Const(IRConst_U64(v)); }

IRTemp assign(IRSB* sb, IRType ty, IRExpr* e) {
  IRTemp t = newIRTemp(sb->tyenv, ty);
  addStmtToIRSB(sb, IRStmt_WrTmp(t, e));
  return t;
}

void add_clock(IRSB* sb, Int n) {
  IRExpr* where = mkIRExpr_HWord(reinterpret_cast<HWord>(&g_instrs));
  IRTemp old = assign(sb, Ity_I64, IRExpr_Load(Iend_LE, Ity_I64, where));
  IRTemp now = assign(sb, Ity_I64, IRExpr_Binop(Iop_Add64, IRExpr_RdTmp(old), u64((ULong)n)));
  addStmtToIRSB(sb, IRStmt_Store(Iend_LE, where, IRExpr_RdTmp(now)));
}

// e is "temp + constant" (Add64 either way round, or Sub64): sets the temp
// and the signed constant.
bool temp_plus_const(const IRExpr* e, IRTemp* u, Long* delta) {
  if (e->tag != Iex_Binop || (e->Iex.Binop.op != Iop_Add64 && e->Iex.Binop.op != Iop_Sub64)) return false;
  const IRExpr* a = e->Iex.Binop.arg1;
  const IRExpr* b = e->Iex.Binop.arg2;
  if (e->Iex.Binop.op == Iop_Add64 && a->tag == Iex_Const) { const IRExpr* x = a; a = b; b = x; }
  if (a->tag != Iex_RdTmp || b->tag != Iex_Const || b->Iex.Const.con->tag != Ico_U64) return false;
  *u = a->Iex.RdTmp.tmp;
  Long c = static_cast<Long>(b->Iex.Const.con->Ico.U64);
  *delta = e->Iex.Binop.op == Iop_Add64 ? c : -c;
  return true;
}

// Which temps hold "stack pointer + constant". Offsets are kept relative to
// the stack pointer at the start of an epoch, and cur_ follows the stack
// pointer through writes of such temps (push, pop, call, ret, sub/add rsp),
// as the core's own stack-pointer pass does. Any other write to SP starts a
// new epoch, so temps computed from an older SP no longer qualify.
// Two uses: an access within DHAT's stack window of the current SP gets no
// instrumentation at all (no filter load, no conditional call), and with
// dead stack tracked a pop of a known size is copied to the mirror inline.
class SpTracker {
 public:
  void reset(Int n_temps, Int off_sp) {
    if (!ready_) { epoch_of_.init("mt.instrument.sp"); off_of_.init("mt.instrument.sp"); ready_ = true; }
    epoch_of_.resize(n_temps);
    off_of_.resize(n_temps);
    VG_(memset)(epoch_of_.begin(), 0, n_temps * sizeof(UInt));
    epoch_ = 1;
    cur_ = 0;
    off_sp_ = off_sp;
  }
  // Call for every statement of the input, before instrumenting it.
  void see(const IRStmt* st) {
    switch (st->tag) {
      case Ist_WrTmp: {
        const IRExpr* e = st->Ist.WrTmp.data;
        IRTemp t = st->Ist.WrTmp.tmp;
        if (e->tag == Iex_Get && e->Iex.Get.offset == off_sp_ && e->Iex.Get.ty == Ity_I64) {
          set(t, cur_);
        } else {
          IRTemp u;
          Long c, base;
          if (temp_plus_const(e, &u, &c) && offset(u, &base)) set(t, base + c);
          else if (e->tag == Iex_RdTmp && offset(e->Iex.RdTmp.tmp, &base)) set(t, base);
        }
        break;
      }
      case Ist_Put: {
        Long delta;
        SpWrite w = classify(st, &delta);
        if (w == SpWrite::kKnown) {
          cur_ += delta;
        } else if (w == SpWrite::kUnknown) {
          epoch_++;
          cur_ = 0;
          // The written temp is the new SP (the core's pass does the same).
          if (exact_sp(st) && st->Ist.Put.data->tag == Iex_RdTmp) set(st->Ist.Put.data->Iex.RdTmp.tmp, 0);
        }
        break;
      }
      case Ist_PutI:
        epoch_++;
        cur_ = 0;
        break;
      case Ist_Dirty: {
        const IRDirty* d = st->Ist.Dirty.details;
        for (Int i = 0; i < d->nFxState; i++) {
          if (d->fxState[i].fx == Ifx_Read || d->fxState[i].fx == Ifx_None) continue;
          for (Int k = 0; k <= d->fxState[i].nRepeats; k++)
            if (overlaps_sp(d->fxState[i].offset + k * d->fxState[i].repeatLen, d->fxState[i].size)) { epoch_++; cur_ = 0; }
        }
        break;
      }
      default:
        break;
    }
  }
  void set_tyenv(const IRTypeEnv* te) { tyenv_ = te; }
  // Is addr SP + c with c in DHAT's skip window, for the current SP?
  bool is_stack(const IRExpr* addr) const {
    Long off;
    if (addr->tag != Iex_RdTmp || !offset(addr->Iex.RdTmp.tmp, &off)) return false;
    off -= cur_;
    return off >= -static_cast<Long>(arch::kStackRedzone) && off <= kDhatStackWindow - static_cast<Long>(arch::kStackRedzone);
  }

  enum class SpWrite { kNone, kKnown, kUnknown };
  // What a Put does to SP: nothing, moves it by a known delta (positive: a
  // pop), or writes a value not known relative to the current SP.
  SpWrite classify(const IRStmt* st, Long* delta) const {
    if (st->tag != Ist_Put || !overlaps_sp(st->Ist.Put.offset, sizeofIRType(typeOfIRExpr(tyenv_, st->Ist.Put.data))))
      return SpWrite::kNone;
    Long off;
    if (exact_sp(st) && st->Ist.Put.data->tag == Iex_RdTmp && offset(st->Ist.Put.data->Iex.RdTmp.tmp, &off)) {
      *delta = off - cur_;
      return SpWrite::kKnown;
    }
    return SpWrite::kUnknown;
  }
  bool exact_sp(const IRStmt* st) const {
    return st->Ist.Put.offset == off_sp_ && typeOfIRExpr(tyenv_, st->Ist.Put.data) == Ity_I64;
  }

 private:
  static constexpr Long kDhatStackWindow = 16 * 1024;
  bool overlaps_sp(Int off, Int size) const { return off < off_sp_ + 8 && off_sp_ < off + size; }
  void set(IRTemp t, Long off) { epoch_of_[t] = epoch_; off_of_[t] = off; }
  bool offset(IRTemp t, Long* off) const {
    if (epoch_of_[t] != epoch_) return false;
    *off = off_of_[t];
    return true;
  }
  bool ready_;
  Vec<UInt> epoch_of_;
  Vec<Long> off_of_;
  UInt epoch_;
  Long cur_;  // the current SP, relative to the SP at the epoch's start
  Int off_sp_;
  const IRTypeEnv* tyenv_;
};
SpTracker g_sp;  // trivially constructible: zero-initialised, no constructor runs

bool tracking() { return g_opts.access_tracking && g_opts.mode == Mode::kHeap; }

// The filter byte for addr: set when a heap block ever lay in its granule
// (or in one it aliases: the index is taken modulo the filter's span, so
// any address, a guarded access's when its guard is false included, reads
// within the table). Its type is kFilterTy: the byte, or the byte widened
// where the host has no 8-bit compare (mt_arch.h).
constexpr IRType kFilterTy = arch::kWideFilterTest ? Ity_I32 : Ity_I8;
IRExpr* granule_byte(IRSB* sb, IRExpr* addr) {
  IRTemp gran = assign(sb, Ity_I64, IRExpr_Binop(Iop_Shr64, addr, IRExpr_Const(IRConst_U8(access::kGranuleShift))));
  IRTemp idx = assign(sb, Ity_I64, IRExpr_Binop(Iop_And64, IRExpr_RdTmp(gran), u64(access::kGranules - 1)));
  IRTemp at = assign(sb, Ity_I64,
                     IRExpr_Binop(Iop_Add64, IRExpr_RdTmp(idx), u64(reinterpret_cast<ULong>(access::heap_granules()))));
  IRExpr* byte = IRExpr_RdTmp(assign(sb, Ity_I8, IRExpr_Load(Iend_LE, Ity_I8, IRExpr_RdTmp(at))));
  if (!arch::kWideFilterTest) return byte;
  return IRExpr_RdTmp(assign(sb, Ity_I32, IRExpr_Unop(Iop_8Uto32, byte)));
}

// Whether a filter value (granule_byte's, or two or'd) is set.
IRExpr* filter_set(IRSB* sb, IRExpr* v) {
  if (arch::kWideFilterTest)
    return IRExpr_RdTmp(assign(sb, Ity_I1, IRExpr_Binop(Iop_CmpNE32, v, IRExpr_Const(IRConst_U32(0)))));
  return IRExpr_RdTmp(assign(sb, Ity_I1, IRExpr_Binop(Iop_CmpNE8, v, IRExpr_Const(IRConst_U8(0)))));
}

// One access of size bytes at addr (an atom), performed only when guard (an
// Ity_I1 atom, or null) holds.
void emit_single(IRSB* sb, bool is_write, Int size, IRExpr* addr, IRExpr* guard) {
  tl_assert(typeOfIRExpr(sb->tyenv, addr) == Ity_I64);
  IRExpr* cond = filter_set(sb, granule_byte(sb, addr));
  if (guard) cond = IRExpr_RdTmp(assign(sb, Ity_I1, IRExpr_Binop(Iop_And1, guard, cond)));

  IRDirty* di;
  if (const access::SizedHelpers* h = access::sized_helpers((UWord)size)) {
    di = unsafeIRDirty_0_N(1, is_write ? h->write_name : h->read_name, VG_(fnptr_to_fnentry)(is_write ? h->write : h->read),
                           mkIRExprVec_1(addr));
  } else {
    const char* name = is_write ? "mt_on_write" : "mt_on_read";
    void* fn = is_write ? reinterpret_cast<void*>(&access::on_write) : reinterpret_cast<void*>(&access::on_read);
    di = unsafeIRDirty_0_N(2, name, VG_(fnptr_to_fnentry)(fn), mkIRExprVec_2(addr, mkIRExpr_HWord((HWord)size)));
  }
  di->guard = cond;
  addStmtToIRSB(sb, IRStmt_Dirty(di));
}

// Unguarded accesses at constant offsets from one temp (a struct's fields,
// neighbouring array slots, a copy loop's source and destination words)
// share one filter test and one call: each call costs register saves around
// it in the translation, whatever the helper does. Temps are single
// assignments, so "root + offset" stays exact wherever the call goes; the
// group's call is placed after its last access, before any side exit.
class Grouper {
 public:
  void reset(Int n_temps) {
    if (!ready_) { root_.init("mt.instrument.group"); off_.init("mt.instrument.group"); ready_ = true; }
    root_.resize(n_temps);
    off_.resize(n_temps);
    for (Int t = 0; t < n_temps; t++) { root_[t] = t; off_[t] = 0; }
    n_ = 0;
  }
  void see(const IRStmt* st) {
    if (st->tag != Ist_WrTmp) return;
    IRTemp u, t = st->Ist.WrTmp.tmp;
    Long c;
    if (!temp_plus_const(st->Ist.WrTmp.data, &u, &c)) return;
    root_[t] = root_[u];
    off_[t] = off_[u] + c;
  }
  // Takes an unguarded access of 1, 2, 4 or 8 bytes at a temp; false if it
  // must be instrumented on its own.
  bool take(IRSB* sb, bool is_write, Int size, IRExpr* addr) {
    if (addr->tag != Iex_RdTmp || (size != 1 && size != 2 && size != 4 && size != 8)) return false;
    IRTemp t = addr->Iex.RdTmp.tmp;
    Long rel = off_[t] - off0_;
    if (n_ > 0 && (root_[t] != root0_ || n_ == access::kGroupMax || rel < access::kGroupRelMin ||
                   rel > access::kGroupRelMax))
      flush(sb);
    if (n_ == 0) {
      root0_ = root_[t];
      off0_ = off_[t];
      addr0_ = addr;
      rel = 0;
      rel_min_ = rel_max_ = 0;
      code_ = 0;
      size0_ = size;
      write0_ = is_write;
    }
    UInt lg = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
    code_ |= access::group_entry(n_, rel, lg, is_write);
    rel_min_ = min(rel_min_, rel);
    rel_max_ = max(rel_max_, rel);
    n_++;
    return true;
  }
  void flush(IRSB* sb) {
    if (n_ == 0) return;
    if (n_ == 1) {
      emit_single(sb, write0_, size0_, addr0_, nullptr);
    } else {
      // Every access of the group starts within 1 KiB of the first, so in
      // the granules of the lowest and the highest start.
      IRExpr* lo = rel_min_ == 0 ? addr0_ : IRExpr_RdTmp(assign(sb, Ity_I64, IRExpr_Binop(Iop_Add64, addr0_, u64(static_cast<ULong>(rel_min_)))));
      IRExpr* hi = rel_max_ == 0 ? addr0_ : IRExpr_RdTmp(assign(sb, Ity_I64, IRExpr_Binop(Iop_Add64, addr0_, u64(static_cast<ULong>(rel_max_)))));
      IRExpr* b_lo = granule_byte(sb, lo);
      IRExpr* b_hi = granule_byte(sb, hi);
      IRTemp any = assign(sb, kFilterTy, IRExpr_Binop(arch::kWideFilterTest ? Iop_Or32 : Iop_Or8, b_lo, b_hi));
      IRExpr* heap = filter_set(sb, IRExpr_RdTmp(any));
      IRDirty* di = unsafeIRDirty_0_N(2, "mt_on_group", VG_(fnptr_to_fnentry)(reinterpret_cast<void*>(&access::on_group)),
                                      mkIRExprVec_2(addr0_, u64(code_ | static_cast<ULong>(n_))));
      di->guard = heap;
      addStmtToIRSB(sb, IRStmt_Dirty(di));
    }
    n_ = 0;
  }

 private:
  bool ready_;
  Vec<IRTemp> root_;
  Vec<Long> off_;
  int n_;
  IRTemp root0_;
  Long off0_, rel_min_, rel_max_;
  IRExpr* addr0_;
  ULong code_;
  Int size0_;
  bool write0_;
};
Grouper g_group;  // trivially constructible, like g_sp

void add_access(IRSB* sb, bool is_write, Int size, IRExpr* addr, IRExpr* guard) {
  if (!tracking() || size <= 0 || g_sp.is_stack(addr)) return;
  if (guard || !g_group.take(sb, is_write, size, addr)) emit_single(sb, is_write, size, addr, guard);
}

// Dead stack, as memcheck sees it: memory the stack pointer moves down over
// holds nothing the program wrote since (memcheck: undefined) until a store
// to it; a frame that never writes a slot keeps whatever an earlier, dead
// frame left there, and memcheck's leak search ignores it. memtrack copies
// what each fall of the stack pointer covers into a mirror of that stack in
// tool memory (mt_deadstack), before any store of the new frame; the leak
// search skips stack words still equal to their mirror copy. The client's
// memory is never written. A push or call covers one word and writes it at
// once: those 8-byte falls are left out (sqlite3: 9 in 10 falls).
// Constant falls of up to kInlinePop bytes are copied inline when the stack
// the helpers found last (deadstack::cache()) holds them; longer ones, falls
// on another stack and falling SP writes not known relative to the old SP
// (alloca, and rsp -16) go to the helpers. Rises do nothing: what they leave
// is below SP, no root, until a fall covers it again.

// Copies n bytes (a multiple of 4) from src to dst, 16 bytes at a time.
void add_copy(IRSB* sb, IRExpr* src, IRExpr* dst, Long n) {
  for (Long off = 0; off < n;) {
    const Long left = n - off;
    const Long step = left >= 16 ? 16 : left >= 8 ? 8 : 4;
    const IRType ty = step == 16 ? Ity_V128 : step == 8 ? Ity_I64 : Ity_I32;
    auto at = [&](IRExpr* base) {
      return off == 0 ? base : IRExpr_RdTmp(assign(sb, Ity_I64, IRExpr_Binop(Iop_Add64, base, u64(static_cast<ULong>(off)))));
    };
    IRExpr* v = IRExpr_RdTmp(assign(sb, ty, IRExpr_Load(Iend_LE, ty, at(src))));
    addStmtToIRSB(sb, IRStmt_Store(Iend_LE, at(dst), v));
    off += step;
  }
}

// The copy of [from, from + n) into the mirror when the cached stack holds
// it; else scratch to scratch, and the returned guard (true) tells the
// caller to call its helper.
IRExpr* add_mirror_copy(IRSB* sb, IRExpr* from, Long n) {
  const deadstack::Cache* c = deadstack::cache();
  auto tmp = [&](IRType ty, IRExpr* e) { return IRExpr_RdTmp(assign(sb, ty, e)); };
  auto load = [&](const Addr* p) { return tmp(Ity_I64, IRExpr_Load(Iend_LE, Ity_I64, u64(reinterpret_cast<ULong>(p)))); };
  IRExpr* lo = load(&c->lo);
  IRExpr* end = load(&c->end);
  IRExpr* delta = load(&c->delta);
  IRExpr* to = tmp(Ity_I64, IRExpr_Binop(Iop_Add64, from, u64(static_cast<ULong>(n))));
  IRExpr* ok = tmp(Ity_I1, IRExpr_Binop(Iop_And1, tmp(Ity_I1, IRExpr_Binop(Iop_CmpLE64U, lo, from)),
                                        tmp(Ity_I1, IRExpr_Binop(Iop_CmpLE64U, to, end))));
  IRExpr* scratch = u64(deadstack::scratch());
  IRExpr* src = tmp(Ity_I64, IRExpr_ITE(ok, from, scratch));
  IRExpr* dst = tmp(Ity_I64, IRExpr_ITE(ok, tmp(Ity_I64, IRExpr_Binop(Iop_Add64, from, delta)), scratch));
  add_copy(sb, src, dst, n);
  return tmp(Ity_I1, IRExpr_Unop(Iop_Not1, ok));
}

// The SP moves the core's stack-pointer pass hands to specialised tool hooks
// (m_translate.c), never checked against --max-stackframe.
bool core_known_size(Long delta) {
  switch (delta) {
    case 4: case 8: case 12: case 16: case 32: case 112: case 128: case 144: case 160: return true;
    default: return false;
  }
}

// Before a Put, with dead stack tracked: copies what an SP fall covers,
// [new SP, new SP + fall), into the mirror. is_push: an 8-byte fall whose
// word the superblock stores next (push, call).
void add_sp_fall(IRSB* sb, const IRStmt* put, bool is_push) {
  Long delta = 0;
  switch (g_sp.classify(put, &delta)) {
    case SpTracker::SpWrite::kNone:
      return;
    case SpTracker::SpWrite::kKnown: {
      if (delta >= 0) return;
      const Long fall = -delta;
      if (is_push && fall == 8) return;
      // The core's own rule: a constant move it has no specialised hook for
      // (4, 8, 12, 16, 32, 112, 128, 144, 160 bytes) is a stack switch when
      // it exceeds --max-stackframe, and memcheck then leaves the bits.
      if (fall > vg_core::max_stackframe() && !core_known_size(fall)) return;
      IRExpr* new_sp = put->Ist.Put.data;
      auto helper = [&](IRExpr* guard) {
        IRDirty* d = unsafeIRDirty_0_N(2, "stack_covered", VG_(fnptr_to_fnentry)(reinterpret_cast<void*>(&deadstack::covered)),
                                       mkIRExprVec_2(new_sp, u64(static_cast<ULong>(fall))));
        if (guard) d->guard = guard;
        addStmtToIRSB(sb, IRStmt_Dirty(d));
      };
      if (fall <= deadstack::kInlinePop && (fall & 3) == 0) helper(add_mirror_copy(sb, new_sp, fall));
      else helper(nullptr);
      return;
    }
    case SpTracker::SpWrite::kUnknown: {
      if (!g_sp.exact_sp(put)) return;  // partial SP writes: 16-bit code only
      // Mostly rises (leave, lea rsp from rbp, longjmp): a compare each.
      IRExpr* new_sp = put->Ist.Put.data;
      IRExpr* old_sp = IRExpr_RdTmp(assign(sb, Ity_I64, IRExpr_Get(arch::kOffSP, Ity_I64)));
      IRExpr* falls = IRExpr_RdTmp(assign(sb, Ity_I1, IRExpr_Binop(Iop_CmpLT64U, new_sp, old_sp)));
      IRDirty* d = unsafeIRDirty_0_N(2, "sp_written", VG_(fnptr_to_fnentry)(reinterpret_cast<void*>(&deadstack::sp_written)),
                                     mkIRExprVec_2(old_sp, new_sp));
      d->guard = falls;
      addStmtToIRSB(sb, IRStmt_Dirty(d));
      return;
    }
  }
}

// Whether the statement after stmts[i], a Put of SP = t, stores to t before
// SP or the superblock moves on: a push or a call.
bool push_follows(const IRSB* sb, Int i, Int off_sp) {
  const IRExpr* v = sb->stmts[i]->Ist.Put.data;
  if (v->tag != Iex_RdTmp) return false;
  for (Int k = i + 1; k < sb->stmts_used && k <= i + 8; k++) {
    const IRStmt* st = sb->stmts[k];
    if (!st) continue;
    if (st->tag == Ist_Store) {
      const IRExpr* a = st->Ist.Store.addr;
      return a->tag == Iex_RdTmp && a->Iex.RdTmp.tmp == v->Iex.RdTmp.tmp;
    }
    if (st->tag == Ist_Exit || st->tag == Ist_Dirty || st->tag == Ist_CAS || st->tag == Ist_LLSC ||
        st->tag == Ist_StoreG || (st->tag == Ist_Put && st->Ist.Put.offset == off_sp))
      return false;
  }
  return false;
}

Int load_g_size(IRLoadGOp op) {
  switch (op) {
    case ILGop_IdentV128: return 16;
    case ILGop_Ident64: return 8;
    case ILGop_Ident32: return 4;
    case ILGop_16Uto32: case ILGop_16Sto32: return 2;
    case ILGop_8Uto32: case ILGop_8Sto32: return 1;
    default: return 0;
  }
}

void add_accesses_of(IRSB* out, IRTypeEnv* tyenv, IRStmt* st) {
  switch (st->tag) {
    case Ist_WrTmp: {
      IRExpr* data = st->Ist.WrTmp.data;
      if (data->tag == Iex_Load) add_access(out, false, sizeofIRType(data->Iex.Load.ty), data->Iex.Load.addr, nullptr);
      break;
    }
    case Ist_Store: {
      IRExpr* data = st->Ist.Store.data;
      add_access(out, true, sizeofIRType(typeOfIRExpr(tyenv, data)), st->Ist.Store.addr, nullptr);
      break;
    }
    case Ist_LoadG: {  // DHAT misses these (AVX masked moves, XSAVE parts)
      IRLoadG* lg = st->Ist.LoadG.details;
      add_access(out, false, load_g_size(lg->cvt), lg->addr, lg->guard);
      break;
    }
    case Ist_StoreG: {
      IRStoreG* sg = st->Ist.StoreG.details;
      add_access(out, true, sizeofIRType(typeOfIRExpr(tyenv, sg->data)), sg->addr, sg->guard);
      break;
    }
    case Ist_Dirty: {
      IRDirty* d = st->Ist.Dirty.details;
      if (d->mFx == Ifx_None) break;
      // A guarded helper touches memory only when its guard holds.
      IRExpr* guard = (d->guard && !(d->guard->tag == Iex_Const)) ? d->guard : nullptr;
      if (d->mFx == Ifx_Read || d->mFx == Ifx_Modify) add_access(out, false, d->mSize, d->mAddr, guard);
      if (d->mFx == Ifx_Write || d->mFx == Ifx_Modify) add_access(out, true, d->mSize, d->mAddr, guard);
      break;
    }
    case Ist_CAS: {
      IRCAS* cas = st->Ist.CAS.details;
      Int size = sizeofIRType(typeOfIRExpr(tyenv, cas->dataLo));
      if (cas->dataHi) size *= 2;  // double-word CAS
      add_access(out, false, size, cas->addr, nullptr);
      add_access(out, true, size, cas->addr, nullptr);
      break;
    }
    case Ist_LLSC: {
      if (st->Ist.LLSC.storedata == nullptr)
        add_access(out, false, sizeofIRType(typeOfIRTemp(tyenv, st->Ist.LLSC.result)), st->Ist.LLSC.addr, nullptr);
      else
        add_access(out, true, sizeofIRType(typeOfIRExpr(tyenv, st->Ist.LLSC.storedata)), st->Ist.LLSC.addr, nullptr);
      break;
    }
    default:
      break;
  }
}

}  // namespace

IRSB* run(VgCallbackClosure*, IRSB* sb_in, const VexGuestLayout* layout, const VexGuestExtents*, const VexArchInfo*,
          IRType g_word_ty, IRType) {
  tl_assert(g_word_ty == Ity_I64);
  IRSB* out = deepCopyIRSBExceptStmts(sb_in);
  g_sp.reset(sb_in->tyenv->types_used, layout->offset_SP);
  g_sp.set_tyenv(sb_in->tyenv);
  g_group.reset(sb_in->tyenv->types_used);
  Int i = 0;
  // The preamble before the first IMark is copied as it is.
  while (i < sb_in->stmts_used && sb_in->stmts[i]->tag != Ist_IMark) addStmtToIRSB(out, sb_in->stmts[i++]);

  Int pending = 0;  // instructions not yet added to the clock
  const bool dead_stack = deadstack::enabled();
  for (; i < sb_in->stmts_used; i++) {
    IRStmt* st = sb_in->stmts[i];
    if (!st || st->tag == Ist_NoOp) continue;
    if (st->tag == Ist_IMark) {
      pending++;
    } else if (st->tag == Ist_Exit) {
      g_group.flush(out);
      if (pending) { add_clock(out, pending); pending = 0; }
    } else if (st->tag == Ist_Put) {
      if (dead_stack && st->Ist.Put.offset == layout->offset_SP) add_sp_fall(out, st, push_follows(sb_in, i, layout->offset_SP));
    } else {
      add_accesses_of(out, sb_in->tyenv, st);
    }
    g_sp.see(st);
    g_group.see(st);
    addStmtToIRSB(out, st);
  }
  g_group.flush(out);
  if (pending) add_clock(out, pending);
  if (out->jumpkind == Ijk_ClientReq) fastcall::add(out);
  return out;
}

}  // namespace mt::instrument
