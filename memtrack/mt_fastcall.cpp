#include "mt_fastcall.h"
#include "mt_arch.h"

namespace mt::fastcall {

namespace {

// The preload's heap functions are the only callers we take over; a dozen
// entries, so a linear scan beats anything cleverer.
constexpr int kMaxFns = 24;
const void* g_fns[kMaxFns];
int g_nfns;

constexpr int kMaxReqs = 4;
UWord g_reqs[kMaxReqs];
RequestFn g_req_fns[kMaxReqs];
int g_nreqs;

bool allowed(const void* fn) {
  for (int i = 0; i < g_nfns; i++)
    if (g_fns[i] == fn) return true;
  return false;
}

// The result register of the running thread: through g, or where the
// helper gets no guest state pointer (mt_arch.h), through the core.
inline void set_result(arch::GuestState* g, UWord v) {
  if (arch::kHelperGetsGuestState) {
    arch::set_clreq_result(g, v);
  } else {
    VG_(set_shadow_regs_area)(VG_(get_running_tid)(), 0, arch::kOffClreqResult, sizeof v,
                              reinterpret_cast<const UChar*>(&v));
  }
}

// Returns 1 when it made the call (result already in the guest's result
// register), 0 when the request must go to the scheduler as usual. The
// argument block is the client's: [0] request, [1] function, [2..] args.
UWord VEX_REGPARM(2) do_call(arch::GuestState* g, UWord argp) {
  const UWord* a = reinterpret_cast<const UWord*>(argp);
  UWord req = a[0];
  if (req < VG_USERREQ__CLIENT_CALL0 || req > VG_USERREQ__CLIENT_CALL3) {
    for (int i = 0; i < g_nreqs; i++) {
      if (g_reqs[i] != req) continue;
      set_result(g, g_req_fns[i](VG_(get_running_tid)(), a));
      return 1;
    }
    return 0;
  }
  const void* fn = reinterpret_cast<const void*>(a[1]);
  if (!fn || !allowed(fn)) return 0;
  ThreadId tid = VG_(get_running_tid)();
  UWord r;
  switch (req) {
    case VG_USERREQ__CLIENT_CALL0: r = reinterpret_cast<UWord (*)(ThreadId)>(a[1])(tid); break;
    case VG_USERREQ__CLIENT_CALL1: r = reinterpret_cast<UWord (*)(ThreadId, UWord)>(a[1])(tid, a[2]); break;
    case VG_USERREQ__CLIENT_CALL2:
      r = reinterpret_cast<UWord (*)(ThreadId, UWord, UWord)>(a[1])(tid, a[2], a[3]);
      break;
    default: r = reinterpret_cast<UWord (*)(ThreadId, UWord, UWord, UWord)>(a[1])(tid, a[2], a[3], a[4]); break;
  }
  set_result(g, r);
  return 1;
}
UWord do_call_without_gs(UWord argp) { return do_call(nullptr, argp); }

void fx(IRDirty* d, int i, IREffect e, Int off) {
  d->fxState[i].fx = e;
  d->fxState[i].offset = off;
  d->fxState[i].size = 8;
  d->fxState[i].nRepeats = 0;
  d->fxState[i].repeatLen = 0;
}

}  // namespace

void allow(const void* fn) {
  tl_assert(g_nfns < kMaxFns);
  if (fn) g_fns[g_nfns++] = fn;
}

void allow_request(UWord req, RequestFn fn) {
  tl_assert(g_nreqs < kMaxReqs && fn);
  g_reqs[g_nreqs] = req;
  g_req_fns[g_nreqs++] = fn;
}

void add(IRSB* out) {
  tl_assert(out->jumpkind == Ijk_ClientReq);
  IRExpr* next = out->next;
  if (next->tag != Iex_Const || next->Iex.Const.con->tag != Ico_U64) return;  // leave it to the scheduler
  ULong resume = next->Iex.Const.con->Ico.U64;

  // The unwinder starts from the guest IP, SP, FP (and LR on arm64): make
  // them what the scheduler path would see (IP = the instruction after the
  // request).
  addStmtToIRSB(out, IRStmt_Put(arch::kOffIP, IRExpr_Const(IRConst_U64(resume))));
  IRTemp argp = newIRTemp(out->tyenv, Ity_I64);  // helper arguments must be atoms
  addStmtToIRSB(out, IRStmt_WrTmp(argp, IRExpr_Get(arch::kOffClreqArgs, Ity_I64)));
  IRTemp done = newIRTemp(out->tyenv, Ity_I64);
  IRDirty* d = arch::kHelperGetsGuestState
                   ? unsafeIRDirty_1_N(done, 2, "mt_fast_client_call", VG_(fnptr_to_fnentry)(reinterpret_cast<void*>(&do_call)),
                                       mkIRExprVec_2(IRExpr_GSPTR(), IRExpr_RdTmp(argp)))
                   : unsafeIRDirty_1_N(done, 1, "mt_fast_client_call",
                                       VG_(fnptr_to_fnentry)(reinterpret_cast<void*>(&do_call_without_gs)),
                                       mkIRExprVec_1(IRExpr_RdTmp(argp)));
  // The heap functions read and write client memory (realloc copies,
  // calloc zeroes) and may report errors with a stack trace.
  d->mFx = Ifx_None;
  static_assert(arch::kNumUnwindRegs + 1 <= VEX_N_FXSTATE, "too many guest registers for one helper");
  d->nFxState = arch::kNumUnwindRegs + 1;
  for (int i = 0; i < arch::kNumUnwindRegs; i++) fx(d, i, Ifx_Read, arch::kUnwindRegs[i]);
  fx(d, arch::kNumUnwindRegs, Ifx_Write, arch::kOffClreqResult);
  addStmtToIRSB(out, IRStmt_Dirty(d));
  IRTemp declined = newIRTemp(out->tyenv, Ity_I1);
  addStmtToIRSB(out, IRStmt_WrTmp(declined, IRExpr_Binop(Iop_CmpEQ64, IRExpr_RdTmp(done), IRExpr_Const(IRConst_U64(0)))));
  addStmtToIRSB(out, IRStmt_Exit(IRExpr_RdTmp(declined), Ijk_ClientReq, IRConst_U64(resume), arch::kOffIP));
  out->jumpkind = Ijk_Boring;
}

}  // namespace mt::fastcall
