#!/usr/bin/env python3
"""Random, reproducible stress programs for memtrack's oracles (issue 7).

generate(seed) writes one C program (even seeds) or C++ program (odd seeds)
from random.Random(seed): the same seed gives the same text on every
machine and Python 3 version (only Random.random/randrange/choice are used).
The program mixes every allocation function (malloc, calloc, realloc to
grow, shrink, from NULL and to 0, free, posix_memalign, aligned_alloc,
memalign, valloc, strdup; in C++ also new, new[], nothrow and aligned new,
arrays with a cookie and objects with two bases), byte and word reads and
writes, memcpy, memset, strlen, pointers stored in blocks (start and
interior ones), a few threads that allocate and free each other's blocks,
and at the end leaks of every kind: definitely lost, indirectly lost
(blocks owned by lost blocks, rings), possibly lost (only interior
pointers), still reachable (global pointers), reachable through memcheck's
heuristics (C++).

The program takes no input and uses no randomness, and everything the
oracles print is independent of thread scheduling and of where the
allocator puts blocks:

* threads work in phases separated by barriers: a "turn" phase lets one
  thread do anything; in an "alloc" phase every thread only allocates or
  grows (the heap only goes up, so the peak is the phase's end whatever the
  interleaving) and in a "free" phase only frees or shrinks; in both each
  thread touches only the blocks it owns for the phase. Blocks allocated or
  reallocated during alloc and free phases are freed before exit: the order
  in which the threads first reach their call sites decides the order of
  memcheck's ExeContexts, which breaks ties between loss records;
* every pointer the program stores (in h[], r[] or a block) points into a
  live block: before a block is freed or reallocated the program clears
  the pointers to it (memtrack reuses freed memory at once, memcheck only
  after 20 MB of frees, so a dangling pointer could be a pointer to a new
  block under one tool only);
* among the blocks no root reaches at exit, every block has at most one
  lost block pointing to it and there are no cycles, except rings whose
  blocks have one size and one allocation stack: memcheck's clique pass
  visits lost blocks by address, so any other shape would make its
  definitely/indirectly split depend on the allocator's placement;
* data bytes are 0xA0..0xFE and the program reads only bytes it wrote, so
  no data word, whole or half written, looks like a heap address, no
  heuristic sees a different word in memtrack's zero-filled blocks than in
  memcheck's undefined ones, and the checksum it prints is known here
  (Program.expected_stdout).

Run as a script: stressgen.py SEED [-o FILE] writes the program's source.
"""
import argparse
import random
import sys

NH = 512        # handle slots: h[i] is the program's pointer to one live block
NR = 32         # extra roots: r[i], more pointers (start or interior) to blocks
MAX_LIVE = 400

C_KINDS = ("malloc", "calloc", "realloc0", "memalign", "posix_memalign", "aligned_alloc",
           "valloc", "strdup_lit", "strdup_heap")
CXX_KINDS = ("new", "new_nothrow", "new_arr", "new_char", "new_cookie", "new_align", "new_mi")
C_FAMILY = set(C_KINDS)   # blocks free() and realloc() accept
OPAQUE = ("new_cookie", "new_mi")  # the compiler owns their first bytes
MI_SIZE = 40              # sizeof(MC) below; its MB part starts at 16

UNDEF, PTR, OPQ = None, "P", "O"


def data_byte(s, i):
    """The byte wr()/ws() write at index i for seed s (C: same formula)."""
    return 0xA0 + (s + 7 * i) % 0x5F


class Block:
    def __init__(self, bid, slot, kind, size, base=0, extra=None):
        self.bid = bid
        self.slot = slot          # its h[] index
        self.kind = kind
        self.size = size          # the block as the tools see it
        self.base = base          # h[slot] - block start (cookie: 8, MI: 16)
        self.extra = extra or {}  # struct size / count / alignment for the C++ forms
        self.state = [UNDEF] * size
        self.conc = False         # allocated or reallocated in an alloc/free phase
        self.ring = None          # ring id: same size and stack as its ring mates
        self.handle_live = True   # h[slot] still points to it at exit
        self.handle_off = base    # ... this far from its start


class Program:
    """What generate() returns: seed, lang ('c' or 'cpp'), source, the
    file name it expects (stress_<seed>.c|cpp), expected_stdout, and counts
    (uses of each allocation function and the kinds of leak the model of
    memcheck's marking expects; the tests ask the oracles, not this)."""

    def __init__(self, seed, lang, source, expected_stdout, counts):
        self.seed, self.lang, self.source = seed, lang, source
        self.expected_stdout, self.counts = expected_stdout, counts

    @property
    def filename(self):
        return f"stress_{self.seed}.{self.lang}"


class Gen:
    def __init__(self, seed, scale=1.0):
        self.seed = seed
        self.rng = random.Random(seed)
        self.cxx = seed % 2 == 1
        self.scale = scale
        self.blocks = {}          # bid -> Block (live)
        self.free_slots = list(range(NH - 1, -1, -1))
        self.next_bid = 0
        self.edges = {}           # (src bid, offset) -> (dst bid, offset from dst start)
        self.roots = {}           # r index -> (dst bid, offset from dst start)
        self.sum = 0
        self.uses = {}
        self.structs = set()      # S<n> sizes
        self.dstructs = set()     # D<n> sizes (with a destructor: new[] adds a cookie)
        self.next_ring = 0
        self.out = None           # the statement list being written
        self.sidx = 0             # whose sums[] entry reads add to: main 0, thread t t+1

    # ------------------------------------------------------------------
    # small helpers

    def r(self):
        return self.rng.random()

    def emit(self, line):
        self.out.append(line)

    def use(self, what):
        self.uses[what] = self.uses.get(what, 0) + 1

    def pick_size(self):
        x = self.r()
        if x < 0.04:
            return 0
        if x < 0.62:
            return self.rng.randrange(1, 65)
        if x < 0.87:
            return self.rng.randrange(65, 513)
        if x < 0.98:
            return self.rng.randrange(513, 4097)
        return self.rng.randrange(8193, 40001)

    def h(self, b):
        return f"h[{b.slot}]"

    def ptr_expr(self, b, off):
        """C expression for a pointer off bytes past the start of b."""
        d = off - b.base
        return self.h(b) if d == 0 else f"(char *){self.h(b)} + {d}"

    def cptr(self, b, off):
        """The same as a char *."""
        d = off - b.base
        return f"(char *){self.h(b)}" + (f" + {d}" if d else "")

    # ------------------------------------------------------------------
    # the model

    def new_block(self, kind, size, base=0, extra=None):
        slot = self.free_slots.pop()
        b = Block(self.next_bid, slot, kind, size, base, extra)
        self.next_bid += 1
        self.blocks[b.bid] = b
        return b

    def drop_block(self, b):
        del self.blocks[b.bid]
        self.free_slots.append(b.slot)
        for k in [k for k in self.edges if k[0] == b.bid]:
            del self.edges[k]

    def incoming(self, b):
        ins = [k for k, v in self.edges.items() if v[0] == b.bid]
        rts = [k for k, v in self.roots.items() if v[0] == b.bid]
        return ins, rts

    def clear_incoming(self, b):
        """Clears every stored pointer to b (before it is freed or moved)."""
        ins, rts = self.incoming(b)
        for (src, off) in ins:
            self.unlink(self.blocks[src], off)
        for k in rts:
            self.emit(f"r[{k}] = 0;")
            del self.roots[k]

    def unlink(self, src, off):
        self.emit(f"lk({self.h(src)}, {off - src.base}, 0);")
        del self.edges[(src.bid, off)]
        for i in range(off, off + 8):
            src.state[i] = 0

    def data_runs(self, b, nonzero=False):
        """Maximal runs [s, e) of bytes holding known data."""
        runs, s = [], None
        st = b.state
        for i in range(b.size + 1):
            ok = i < b.size and isinstance(st[i], int) and (st[i] != 0 or not nonzero)
            if ok and s is None:
                s = i
            elif not ok and s is not None:
                runs.append((s, i))
                s = None
        return runs

    def writable_runs(self, b):
        """Runs of bytes the program may overwrite with data (not pointers,
        not the compiler's bytes)."""
        if b.kind in OPAQUE:
            return []
        runs, s = [], None
        for i in range(b.size + 1):
            ok = i < b.size and b.state[i] not in (PTR, OPQ)
            if ok and s is None:
                s = i
            elif not ok and s is not None:
                runs.append((s, i))
                s = None
        return runs

    def pick_range(self, runs, maxlen):
        if not runs:
            return None
        s, e = self.rng.choice(runs)
        a = self.rng.randrange(s, e)
        n = self.rng.randrange(1, min(e - a, maxlen) + 1)
        return a, n

    def defined_word(self, b, off):
        return all(b.state[i] is not UNDEF for i in range(off, off + 8)) if off + 8 <= b.size else False

    def pick_target_offset(self, d):
        """Where a stored pointer to d points (from d's start): mostly the
        program's own handle value, sometimes inside. An aligned interior
        offset only where memcheck's heuristics would read defined words
        (memtrack zero-fills new blocks, memcheck's are undefined)."""
        if d.size == 0 or self.r() < 0.7:
            return d.base
        for _ in range(6):
            t = self.rng.randrange(1, d.size) if d.size > 1 else 0
            if t == 0 or t == d.base:
                continue
            if t % 8 != 0:
                return t
            if d.kind not in OPAQUE and self.defined_word(d, 0) and self.defined_word(d, t):
                return t
        return d.base

    # ------------------------------------------------------------------
    # operations; each writes C statements and updates the model

    def op_alloc(self, kinds=None, own=None):
        """A new block of one of kinds (default: any); a strdup copies a
        string from one of the blocks in own (default: any block)."""
        if len(self.blocks) >= MAX_LIVE:
            return None
        if kinds is None:
            kinds = list(C_KINDS) + (list(CXX_KINDS) if self.cxx else [])
        kind = self.rng.choice(kinds)
        n = self.pick_size()
        if kind == "strdup_heap":
            pool = self.blocks.values() if own is None else [self.blocks[i] for i in sorted(own) if i in self.blocks]
            src = [(b, s, e) for b in pool for (s, e) in self.strings(b)]
            if not src:
                kind = "strdup_lit"
        if kind == "malloc":
            b = self.new_block(kind, n)
            self.emit(f"{self.h(b)} = malloc({n});")
        elif kind == "calloc":
            k = self.rng.choice([1, 1, 2, 3, 4, 8])
            m = n // k
            b = self.new_block(kind, m * k)
            b.state = [0] * b.size
            self.emit(f"{self.h(b)} = calloc({k}, {m});")
        elif kind == "realloc0":
            b = self.new_block(kind, n)
            self.emit(f"{self.h(b)} = realloc(NULL, {n});")
        elif kind in ("memalign", "posix_memalign", "aligned_alloc"):
            a = self.rng.choice([16, 32, 64, 128, 256, 4096] if self.r() < 0.1 else [16, 32, 64, 128])
            if kind == "aligned_alloc":
                n = (n + a - 1) // a * a
            b = self.new_block(kind, n)
            if kind == "memalign":
                self.emit(f"{self.h(b)} = memalign({a}, {n});")
            elif kind == "aligned_alloc":
                self.emit(f"{self.h(b)} = aligned_alloc({a}, {n});")
            else:
                self.emit(f"if (posix_memalign(&{self.h(b)}, {a}, {n})) abort();")
        elif kind == "valloc":
            b = self.new_block(kind, n)
            self.emit(f"{self.h(b)} = valloc({n});")
        elif kind == "strdup_lit":
            L = self.rng.randrange(0, 40)
            s = self.rng.randrange(1000)
            vals = [data_byte(s, i) for i in range(L)]
            b = self.new_block(kind, L + 1)
            b.state = vals + [0]
            lit = "".join(f"\\{v:o}" for v in vals)
            self.emit(f'{self.h(b)} = strdup("{lit}");')
        elif kind == "strdup_heap":
            sb, s, e = self.rng.choice(src)
            b = self.new_block(kind, e - s + 1)
            b.state = sb.state[s:e] + [0]
            self.emit(f"{self.h(b)} = strdup({self.cptr(sb, s)});")
        elif kind in ("new", "new_nothrow"):
            n = max(n, 1)
            self.structs.add(n)
            b = self.new_block(kind, n, extra={"n": n})
            nt = "(std::nothrow) " if kind == "new_nothrow" else ""
            self.emit(f"{self.h(b)} = new {nt}S{n};")
        elif kind == "new_arr":
            n = max(n, 1)
            k = self.rng.randrange(1, 5)
            self.structs.add(n)
            b = self.new_block(kind, n * k, extra={"n": n})
            self.emit(f"{self.h(b)} = new S{n}[{k}];")
        elif kind == "new_char":
            b = self.new_block(kind, n)
            self.emit(f"{self.h(b)} = new char[{n}];")
        elif kind == "new_cookie":
            n = max(1, min(n, 200))
            k = self.rng.randrange(1, 6)
            self.dstructs.add(n)
            b = self.new_block(kind, 8 + n * k, base=8, extra={"n": n})
            b.state[0:8] = [OPQ] * 8
            self.emit(f"{self.h(b)} = new D{n}[{k}];")
        elif kind == "new_align":
            a = self.rng.choice([32, 64, 128, 256])
            b = self.new_block(kind, n, extra={"align": a})
            self.emit(f"{self.h(b)} = ::operator new({n}, std::align_val_t({a}));")
        elif kind == "new_mi":
            b = self.new_block(kind, MI_SIZE, base=16)
            b.state = [OPQ] * MI_SIZE
            self.emit(f"{self.h(b)} = static_cast<MB *>(new MC);")
        else:
            raise AssertionError(kind)
        self.use(kind)
        return b

    def strings(self, b):
        """(start, end) of NUL-terminated runs of data in b: strdup sources."""
        out = []
        for (s, e) in self.data_runs(b, nonzero=True):
            if e < b.size and b.state[e] == 0 and e - s <= 64:
                out.append((s, e))
        return out

    def free_expr(self, b):
        k = b.kind
        if k in C_FAMILY:
            return f"free({self.h(b)});"
        if k in ("new", "new_nothrow"):
            return f"delete (S{b.extra['n']} *){self.h(b)};"
        if k == "new_arr":
            return f"delete[] (S{b.extra['n']} *){self.h(b)};"
        if k == "new_char":
            return f"delete[] (char *){self.h(b)};"
        if k == "new_cookie":
            return f"delete[] (D{b.extra['n']} *){self.h(b)};"
        if k == "new_align":
            return f"::operator delete({self.h(b)}, std::align_val_t({b.extra['align']}));"
        if k == "new_mi":
            return f"delete (MB *){self.h(b)};"
        raise AssertionError(k)

    def op_free(self, b, via_realloc=None):
        self.clear_incoming(b)
        if via_realloc is None:
            via_realloc = b.kind in C_FAMILY and self.r() < 0.15
        if via_realloc:
            self.emit(f"{self.h(b)} = realloc({self.h(b)}, 0);")
            self.use("realloc_to_0")
        else:
            self.emit(self.free_expr(b))
            self.emit(f"{self.h(b)} = 0;")
            self.use("free" if b.kind in C_FAMILY else "delete")
        self.drop_block(b)

    def op_realloc(self, b, how):
        """how: 'grow', 'shrink' or 'same'."""
        self.clear_incoming(b)
        old = b.size
        if how != "grow" and old <= 1:
            how = "grow"  # realloc(p, 0) frees: that is op_free's
        if how == "grow":
            n = old + 1 + self.rng.randrange(0, max(8, old))
        elif how == "shrink":
            n = self.rng.randrange(1, old) if old > 1 else 1
        else:
            n = old
        keep = b.state[:min(old, n)]
        for (src, off) in [k for k in self.edges if k[0] == b.bid]:
            if off + 8 > n:
                del self.edges[(src, off)]
        # A pointer cut in two is no pointer any more, nor data.
        keep = [UNDEF if (v == PTR and not any((b.bid, o) in self.edges for o in range(i - 7, i + 1)))
                else v for i, v in enumerate(keep)]
        b.state = keep + [UNDEF] * (n - len(keep))
        b.size = n
        self.emit(f"{self.h(b)} = realloc({self.h(b)}, {n});")
        self.use(f"realloc_{how}")

    def op_write(self, b):
        rng = self.pick_range(self.writable_runs(b), 300)
        if not rng:
            return
        off, n = rng
        x = self.r()
        s = self.rng.randrange(1000)
        rel = off - b.base
        if x < 0.6:
            self.emit(f"wr({self.h(b)}, {rel}, {n}, {s});")
            vals = [data_byte(s, i) for i in range(n)]
            self.use("write_bytes")
        elif x < 0.85 and n >= 8:
            nw = n // 8
            self.emit(f"wr8({self.h(b)}, {rel}, {nw}, {s});")
            vals = [data_byte(s, i) for i in range(nw * 8)]
            n = nw * 8
            self.use("write_words")
        else:
            c = data_byte(s, 0)
            self.emit(f"memset((char *){self.h(b)} + {rel}, {c}, {n});")
            vals = [c] * n
            self.use("memset")
        b.state[off:off + n] = vals

    def op_read(self, b):
        rng = self.pick_range(self.data_runs(b), 300)
        if not rng:
            return
        off, n = rng
        rel = off - b.base
        if self.r() < 0.7 or n < 8:
            self.emit(f"rd({self.h(b)}, {rel}, {n}, {self.sidx});")
            self.use("read_bytes")
        else:
            n = n // 8 * 8
            self.emit(f"rd8({self.h(b)}, {rel}, {n // 8}, {self.sidx});")
            self.use("read_words")
        self.sum += sum(b.state[off:off + n])

    def op_strlen(self, b):
        ss = self.strings(b)
        if not ss:
            return
        s, e = self.rng.choice(ss)
        self.emit(f"sums[{self.sidx}] += strlen({self.cptr(b, s)});")
        self.sum += e - s
        self.use("strlen")

    def op_string(self, b):
        """Writes a NUL-terminated string (a strdup/strlen source)."""
        runs = [(s, e) for (s, e) in self.writable_runs(b) if e - s >= 2]
        if not runs:
            return
        s, e = self.rng.choice(runs)
        a = self.rng.randrange(s, e - 1)
        n = self.rng.randrange(1, min(e - a - 1, 48) + 1)
        sd = self.rng.randrange(1000)
        self.emit(f"ws({self.h(b)}, {a - b.base}, {n}, {sd});")
        b.state[a:a + n] = [data_byte(sd, i) for i in range(n)]
        b.state[a + n] = 0
        self.use("write_string")

    def op_memcpy(self, dst, src):
        if dst is src:
            return
        sr = self.data_runs(src)
        dr = self.writable_runs(dst)
        if not sr or not dr:
            return
        s0, s1 = self.rng.choice(sr)
        d0, d1 = self.rng.choice(dr)
        n = self.rng.randrange(1, min(s1 - s0, d1 - d0, 256) + 1)
        a = self.rng.randrange(s0, s1 - n + 1)
        c = self.rng.randrange(d0, d1 - n + 1)
        self.emit(f"memcpy((char *){self.h(dst)} + {c - dst.base}, (char *){self.h(src)} + {a - src.base}, {n});")
        dst.state[c:c + n] = src.state[a:a + n]
        self.use("memcpy")

    def link_slots(self, b):
        if b.kind in OPAQUE:
            return []
        return [o for o in range(0, b.size - 7, 8)
                if all(b.state[i] not in (PTR, OPQ) for i in range(o, o + 8))
                or (b.bid, o) in self.edges]

    def op_link(self, src, dst, off=None):
        slots = self.link_slots(src)
        if not slots:
            return False
        o = off if off is not None and off in slots else self.rng.choice(slots)
        if (src.bid, o) in self.edges:
            del self.edges[(src.bid, o)]
        t = self.pick_target_offset(dst)
        self.emit(f"lk({self.h(src)}, {o - src.base}, {self.ptr_expr(dst, t)});")
        self.edges[(src.bid, o)] = (dst.bid, t)
        src.state[o:o + 8] = [PTR] * 8
        self.use("store_pointer" if t == dst.base else "store_interior_pointer")
        return True

    def op_root(self, dst):
        k = self.rng.randrange(NR)
        t = self.pick_target_offset(dst)
        self.emit(f"r[{k}] = {self.ptr_expr(dst, t)};")
        self.roots[k] = (dst.bid, t)
        self.use("global_pointer")

    # ------------------------------------------------------------------
    # a sequence of operations in one context

    def random_ops(self, n, own=None, mode="any"):
        """n operations. own: the blocks this context may touch (None: all).
        mode 'any' (one thread runs), 'alloc' (only allocations, growing
        reallocs, accesses, links) or 'free' (only frees, shrinking
        reallocs, accesses)."""
        mine = set(self.blocks) if own is None else set(own)
        for _ in range(n):
            live = [self.blocks[i] for i in sorted(mine) if i in self.blocks]
            x = self.r()
            if mode == "free":
                cands = [b for b in live if not any(self.incoming(b))]
                if x < 0.45 and cands:
                    self.op_free(self.rng.choice(cands))
                elif x < 0.6 and cands:
                    b = self.rng.choice(cands)
                    if b.kind in C_FAMILY and b.size > 1:
                        self.op_realloc(b, "shrink")
                        b.conc = True
                elif live:
                    b = self.rng.choice(live)
                    (self.op_read if self.r() < 0.5 else self.op_write)(b)
                continue
            if x < 0.3 or not live:
                b = self.op_alloc(own=None if mode == "any" else mine)
                if b is not None:
                    mine.add(b.bid)
                    if mode != "any":
                        b.conc = True
                    if self.r() < 0.5:
                        self.op_write(b)
                continue
            b = self.rng.choice(live)
            if mode == "alloc":
                if x < 0.42 and b.kind in C_FAMILY and not any(self.incoming(b)):
                    self.op_realloc(b, "grow")
                    b.conc = True
                elif x < 0.6:
                    self.op_write(b)
                elif x < 0.75:
                    self.op_read(b)
                elif x < 0.85:
                    self.op_string(b)
                else:
                    # Only to its own blocks: another thread's may move.
                    self.op_link(b, self.rng.choice(live))
                continue
            # any
            if x < 0.42:
                self.op_free(b)
            elif x < 0.52:
                if b.kind in C_FAMILY:
                    self.op_realloc(b, self.rng.choice(["grow", "grow", "shrink", "shrink", "same"]))
            elif x < 0.64:
                self.op_write(b)
            elif x < 0.74:
                self.op_read(b)
            elif x < 0.78:
                self.op_string(b)
            elif x < 0.8:
                self.op_strlen(b)
            elif x < 0.85:
                self.op_memcpy(b, self.rng.choice(live))
            elif x < 0.94:
                self.op_link(b, self.rng.choice(live))
            elif x < 0.97:
                self.op_root(b)
            else:
                slots = [o for (s, o) in self.edges if s == b.bid]
                if slots:
                    self.unlink(b, self.rng.choice(slots))

    # ------------------------------------------------------------------
    # the end: leaks of every kind

    def make_ring(self, k, size):
        """k blocks of one size from one call site (a loop), each pointing to
        the next, the last to the first. Returns them, or [] if there are
        not k free handle slots in a row."""
        slots = sorted(self.free_slots)
        start = next((slots[i] for i in range(len(slots) - k + 1)
                      if slots[i + k - 1] - slots[i] == k - 1), None)
        if start is None:
            return []
        ring = self.next_ring
        self.next_ring += 1
        bs = []
        for i in range(k):
            self.free_slots.remove(start + i)
            b = Block(self.next_bid, start + i, "malloc", size)
            self.next_bid += 1
            b.ring = ring
            self.blocks[b.bid] = b
            bs.append(b)
        self.emit(f"for (i = 0; i < {k}; i++) h[{start} + i] = malloc({size});")
        self.use("malloc")
        self.use("ring")
        for i, b in enumerate(bs):
            nxt = bs[(i + 1) % k]
            self.emit(f"lk({self.h(b)}, 0, {self.h(nxt)});")
            self.edges[(b.bid, 0)] = (nxt.bid, 0)
            b.state[0:8] = [PTR] * 8
        for b in bs:
            if self.r() < 0.5:
                self.op_write(b)
        return bs

    def reachable(self):
        """Blocks any root reaches (start or interior pointers alike)."""
        seen = set()
        todo = [b.bid for b in self.blocks.values() if b.slot is not None and b.handle_live]
        todo += [v[0] for v in self.roots.values()]
        while todo:
            x = todo.pop()
            if x in seen:
                continue
            seen.add(x)
            todo += [v[0] for (s, o), v in self.edges.items() if s == x]
        return seen

    def unreached_edges(self, lost):
        return {(s, o): v for (s, o), v in self.edges.items() if s in lost and v[0] in lost}

    def fix_lost_shapes(self):
        """Makes the lost part a forest (plus same-size, same-site rings):
        memcheck's clique pass would otherwise give answers that depend on
        block addresses. Clears the stored pointers in the way."""
        lost = set(self.blocks) - self.reachable()
        # At most one lost block pointing to each lost block.
        by_dst = {}
        for (s, o), (d, t) in sorted(self.unreached_edges(lost).items()):
            by_dst.setdefault(d, {}).setdefault(s, []).append(o)
        for d, srcs in sorted(by_dst.items()):
            keep = self.rng.choice(sorted(srcs))
            for s, offs in sorted(srcs.items()):
                if s != keep:
                    for o in offs:
                        self.unlink(self.blocks[s], o)
        # Cycles (each lost block now has at most one lost parent).
        parent = {}
        for (s, o), (d, t) in sorted(self.unreached_edges(lost).items()):
            if s != d:
                parent[d] = (s, o)
        for start in sorted(parent):
            path, x = [], start
            while x in parent and x not in path:
                path.append(x)
                x = parent[x][0]
            if x in path:
                cyc = path[path.index(x):]
                rings = {self.blocks[c].ring for c in cyc}
                sizes = {self.blocks[c].size for c in cyc}
                if len(rings) == 1 and None not in rings and len(sizes) == 1:
                    continue
                s, o = parent[cyc[0]]
                if (s, o) in self.edges:
                    self.unlink(self.blocks[s], o)
                del parent[cyc[0]]

    def classify(self):
        """The model of memcheck's answer: bid -> kind word. Heuristics:
        new[] with a cookie (newarray) and the MB part of an MC
        (multipleinheritance) count as start pointers."""
        def via_start(d, t):
            b = self.blocks[d]
            return t == 0 or (t == b.base and b.kind in OPAQUE)
        state = {}
        todo = []
        for b in self.blocks.values():
            if b.handle_live:
                todo.append((b.bid, b.handle_off, True))
        for (d, t) in self.roots.values():
            todo.append((d, t, True))
        while todo:
            d, t, definite = todo.pop()
            new = "reachable" if via_start(d, t) and definite else "possible"
            old = state.get(d)
            if old == "reachable" or old == new:
                continue
            state[d] = new
            for (s, o), (d2, t2) in self.edges.items():
                if s == d:
                    todo.append((d2, t2, new == "reachable"))
        lost = set(self.blocks) - set(state)
        has_parent = {v[0] for (s, o), v in self.edges.items() if s in lost and v[0] in lost and s != v[0]}
        for x in lost:
            state[x] = "indirect" if x in has_parent else "definite"
        # A ring with nothing else pointing into it: one leader, definite.
        for ring in sorted({self.blocks[x].ring for x in lost} - {None}):
            members = [x for x in lost if self.blocks[x].ring == ring]
            outside = {v[0] for (s, o), v in self.edges.items()
                       if s in lost and self.blocks[s].ring != ring and v[0] in members}
            if not outside and all(state[x] == "indirect" for x in members):
                state[members[0]] = "definite"
        return state

    def leak_phase(self):
        """Decides every remaining block's fate, making sure every kind of
        leak is there. All stores into blocks come before the handles
        change (h[] is how the program reaches its blocks)."""
        self.emit("/* the end: what stays, what is lost */")
        fates = {}
        # Rings: one lost, sometimes one kept through r[] (start or interior).
        for n in range(1 + (self.r() < 0.5)):
            bs = self.make_ring(self.rng.randrange(2, 5), self.rng.choice([16, 24, 40, 64]))
            for b in bs:
                fates[b.bid] = "drop"
            if bs and n == 1:
                if self.r() < 0.5:
                    self.op_root(bs[0])
                else:
                    k = self.rng.randrange(NR)
                    self.emit(f"r[{k}] = {self.ptr_expr(bs[0], 3)};")
                    self.roots[k] = (bs[0].bid, 3)
                    self.use("global_interior_pointer")
        # A tree lost as a whole: a definite root, indirect children.
        root = self.op_alloc(["malloc", "calloc"])
        if root is not None:
            while root.size < 16:
                self.op_realloc(root, "grow")
            fates[root.bid] = "drop"
            for _ in range(self.rng.randrange(1, 4)):
                c = self.op_alloc(["malloc", "calloc", "strdup_lit"] + (["new", "new_arr"] if self.cxx else []))
                if c is None or not self.op_link(root, c):
                    break
                fates[c.bid] = "drop"
        for bid in sorted(self.blocks):
            if bid in fates:
                continue
            b = self.blocks[bid]
            x = self.r()
            if b.conc:
                fates[bid] = "free"
            elif x < 0.35:
                fates[bid] = "keep"
            elif x < 0.65:
                fates[bid] = "drop"
            elif x < 0.8 and b.size > 1:
                fates[bid] = "interior"
            else:
                fates[bid] = "free"
        # Frees first: they clear the pointers to the freed blocks.
        for bid, f in sorted(fates.items()):
            if f == "free":
                self.op_free(self.blocks[bid])
        changes = []
        for bid, f in sorted(fates.items()):
            if bid not in self.blocks:
                continue
            b = self.blocks[bid]
            if f == "drop":
                b.handle_live = False
                changes.append(f"{self.h(b)} = 0;")
            elif f == "interior":
                t = self.pick_interior(b)
                if t is not None:
                    b.handle_off = t
                    changes.append(f"{self.h(b)} = {self.ptr_expr(b, t)};")
        self.fix_lost_shapes()
        for c in changes:
            self.emit(c)
        # Every kind at least once (new blocks: no pointer points to them).
        have = set(self.classify().values())
        if "possible" not in have:
            b = self.op_alloc(["malloc"])
            if b is not None:
                while b.size < 2:
                    self.op_realloc(b, "grow")
                t = self.pick_interior(b) or 1
                self.emit(f"{self.h(b)} = {self.ptr_expr(b, t)};")
                b.handle_off = t
        if "reachable" not in have:
            self.op_alloc(["malloc", "calloc"])
        if "definite" not in have:
            b = self.op_alloc(["malloc"])
            if b is not None:
                self.emit(f"{self.h(b)} = 0;")
                b.handle_live = False
        return self.classify()

    def pick_interior(self, b):
        for _ in range(8):
            t = self.rng.randrange(1, b.size) if b.size > 1 else None
            if t is None:
                return None
            if t == b.base:
                continue
            if t % 8 != 0:
                return t
            if b.kind not in OPAQUE and self.defined_word(b, 0) and self.defined_word(b, t):
                return t
        return None

    # ------------------------------------------------------------------
    # the whole program

    def program(self):
        rng = self.rng
        main_pre, main_post = [], []
        self.out = main_pre
        self.random_ops(int(rng.randrange(40, 100) * self.scale))
        nt = rng.choice([2, 2, 3])
        tcode = [[] for _ in range(nt)]
        nphases = rng.randrange(4, 11)
        phases = []
        for p in range(nphases):
            kind = rng.choice(["turn", "turn", "alloc", "alloc", "free"])
            phases.append(kind)
            if kind == "turn":
                t = rng.randrange(nt)
                self.out = tcode[t]
                self.sidx = t + 1
                self.out.append(f"/* phase {p}: thread {t}'s turn */")
                self.random_ops(int(rng.randrange(5, 25) * self.scale))
            else:
                owners = {bid: rng.randrange(nt) for bid in sorted(self.blocks)}
                for t in range(nt):
                    self.out = tcode[t]
                    self.sidx = t + 1
                    self.out.append(f"/* phase {p}: every thread {'allocates' if kind == 'alloc' else 'frees'} */")
                    own = [bid for bid, o in owners.items() if o == t]
                    self.random_ops(int(rng.randrange(3, 15) * self.scale), own=own, mode=kind)
            for t in range(nt):
                tcode[t].append("pthread_barrier_wait(&bar);")
        self.out = main_post
        self.sidx = 0
        self.emit("/* after the threads */")
        for b in sorted(self.blocks.values(), key=lambda b: b.bid):
            if b.conc:
                self.op_free(b)
        self.random_ops(int(rng.randrange(30, 60) * self.scale))
        kinds = self.leak_phase()
        keeper = self.keeper() if rng.random() < 0.6 else None
        counts = dict(self.uses)
        for k in kinds.values():
            counts["leak_" + k] = counts.get("leak_" + k, 0) + 1
        counts["threads"] = nt
        counts["phases"] = phases
        counts["keeper"] = 1 if keeper else 0
        src = self.render(main_pre, tcode, main_post, keeper)
        out = f"stress: seed {self.seed} sum {self.sum & 0xFFFFFFFFFFFFFFFF}\n"
        return Program(self.seed, "cpp" if self.cxx else "c", src, out, counts)

    def keeper(self):
        """A thread still alive (blocked) at exit whose stack alone holds a
        few blocks: start pointers (still reachable) and unaligned interior
        ones (possibly lost). Its blocks point nowhere; main waits until it
        has parked, so nothing it does overlaps anything else."""
        body = []
        n = self.rng.randrange(1, 4)
        for k in range(n):
            size = self.rng.randrange(2, 200)
            fn = self.rng.choice(["malloc", "calloc"])
            call = f"malloc({size})" if fn == "malloc" else f"calloc(1, {size})"
            self.use(fn)
            # The first one a start pointer, the others maybe interior.
            off = self.rng.choice([0] + [t for t in range(1, size) if t % 8][:6]) if k else 0
            sd = self.rng.randrange(1000)
            body.append(f"kept[{k}] = {call};")
            body.append(f"wr(kept[{k}], 0, {size}, {sd});")
            if off:
                body.append(f"kept[{k}] = (char *)kept[{k}] + {off};")
                self.use("thread_stack_interior_pointer")
            else:
                self.use("thread_stack_pointer")
        return {"n": n, "body": body}

    def render(self, main_pre, tcode, main_post, keeper=None):
        nt = len(tcode)
        L = []
        L.append(f"/* Generated by tests/stressgen.py from seed {self.seed} "
                 f"({'C++' if self.cxx else 'C'}); regenerate with\n"
                 f"   python3 tests/stressgen.py {self.seed} -o stress_{self.seed}.{'cpp' if self.cxx else 'c'} */")
        L += ["#include <malloc.h>", "#include <pthread.h>", "#include <stdint.h>",
              "#include <stdio.h>", "#include <stdlib.h>", "#include <string.h>"]
        if self.cxx:
            L.append("#include <new>")
        L.append("")
        L.append(f"void *h[{NH}];   /* the program's pointers to its blocks */")
        L.append(f"void *r[{NR}];    /* more pointers (some interior) */")
        L.append(f"unsigned long sums[{nt + 1}];  /* what main (0) and each thread read */")
        L.append("static pthread_barrier_t start, bar;")
        L.append("")
        if self.cxx:
            for n in sorted(self.structs):
                L.append(f"struct S{n} {{ char b[{n}]; }};")
            for n in sorted(self.dstructs):
                L.append(f"struct D{n} {{ char b[{n}]; ~D{n}() {{}} }};")
            L.append("struct MA { virtual ~MA() {} long a; };")
            L.append("struct MB { virtual ~MB() {} long b; };")
            L.append("struct MC : MA, MB { long c; };")
            L.append("")
        L.append(HELPERS)
        for t in range(nt):
            L.append(f"static void *thr{t}(void *arg)\n{{\n   (void)arg;\n   pthread_barrier_wait(&start);")
            L += ["   " + s for s in tcode[t]]
            L.append("   return 0;\n}\n")
        if keeper:
            L.append("static pthread_mutex_t park_m = PTHREAD_MUTEX_INITIALIZER;")
            L.append("static pthread_cond_t park_c = PTHREAD_COND_INITIALIZER;")
            L.append("static int parked;\n")
            L.append("/* Blocked until the process exits; only its stack holds its blocks. */")
            L.append("static void *keeper(void *arg)\n{")
            L.append(f"   void *volatile kept[{keeper['n']}];\n   (void)arg;")
            L += ["   " + x for x in keeper["body"]]
            L += ["   pthread_mutex_lock(&park_m);", "   parked = 1;", "   pthread_cond_broadcast(&park_c);",
                  "   for (;;)", "      pthread_cond_wait(&park_c, &park_m);", "   return 0;", "}", ""]
        L.append("int main(void)\n{\n   long i;\n   pthread_t th[%d];" % nt)
        L += ["   " + s for s in main_pre]
        L.append(f"   pthread_barrier_init(&start, 0, {nt + 1});")
        L.append(f"   pthread_barrier_init(&bar, 0, {nt});")
        for t in range(nt):
            L.append(f"   pthread_create(&th[{t}], 0, thr{t}, 0);")
        L.append("   pthread_barrier_wait(&start);  /* every thread's start-up allocations are done */")
        for t in range(nt):
            L.append(f"   pthread_join(th[{t}], 0);")
        L += ["   " + s for s in main_post]
        if keeper:
            L += ["   pthread_create(&th[0], 0, keeper, 0);",
                  "   pthread_mutex_lock(&park_m);",
                  "   while (!parked)",
                  "      pthread_cond_wait(&park_c, &park_m);",
                  "   pthread_mutex_unlock(&park_m);"]
        L.append("   (void)i;")
        L.append(f"   for (i = 1; i < {nt + 1}; i++)\n      sums[0] += sums[i];")
        L.append(f'   printf("stress: seed {self.seed} sum %lu\\n", sums[0]);')
        L.append("   wipe();")
        L.append("   return 0;\n}")
        return "\n".join(L) + "\n"


HELPERS = r"""/* Data bytes are 0xA0..0xFE: no data word looks like a heap address. */
#define DB(s, i) ((unsigned char)(0xA0 + ((s) + 7ul * (i)) % 0x5F))

static void __attribute__((noinline, unused)) wr(void *p, long off, long n, unsigned s)
{
   unsigned char *q = (unsigned char *)p + off;
   for (long i = 0; i < n; i++)
      q[i] = DB(s, i);
}

static void __attribute__((noinline, unused)) wr8(void *p, long off, long nw, unsigned s)
{
   unsigned char *q = (unsigned char *)p + off;
   for (long w = 0; w < nw; w++) {
      uint64_t v = 0;
      for (int b = 0; b < 8; b++)
         v |= (uint64_t)DB(s, 8 * w + b) << (8 * b);
      *(uint64_t *)(q + 8 * w) = v;
   }
}

static void __attribute__((noinline, unused)) ws(void *p, long off, long n, unsigned s)
{
   wr(p, off, n, s);
   ((unsigned char *)p)[off + n] = 0;
}

static void __attribute__((noinline, unused)) rd(void *p, long off, long n, int k)
{
   unsigned char *q = (unsigned char *)p + off;
   for (long i = 0; i < n; i++)
      sums[k] += q[i];
}

static void __attribute__((noinline, unused)) rd8(void *p, long off, long nw, int k)
{
   unsigned char *q = (unsigned char *)p + off;
   for (long w = 0; w < nw; w++) {
      uint64_t v = *(uint64_t *)(q + 8 * w);
      for (int b = 0; b < 8; b++)
         sums[k] += (v >> (8 * b)) & 0xff;
   }
}

/* Stores a pointer into a block. */
static void __attribute__((noinline, unused)) lk(void *p, long off, void *q)
{
   *(void **)((char *)p + off) = q;
}

/* Overwrites the dead stack below main's frame and the scratch registers,
   where the last heap pointers the program used may still lie. */
static void __attribute__((noinline, unused)) wipe(void)
{
   volatile char buf[4096];
   memset((char *)buf, 0, sizeof buf);
}
"""


def generate(seed, scale=1.0):
    """The Program for a seed (deterministic)."""
    return Gen(seed, scale).program()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("seed", type=int)
    ap.add_argument("-o", "--out", help="write the source here (default: stdout)")
    ap.add_argument("--scale", type=float, default=1.0, help="more (or fewer) operations")
    ap.add_argument("--counts", action="store_true", help="print what the program does on stderr")
    a = ap.parse_args(argv)
    p = generate(a.seed, a.scale)
    if a.out:
        with open(a.out, "w") as f:
            f.write(p.source)
    else:
        sys.stdout.write(p.source)
    if a.counts:
        for k, v in sorted(p.counts.items()):
            print(f"{k}: {v}", file=sys.stderr)
        print(f"expected stdout: {p.expected_stdout!r}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
