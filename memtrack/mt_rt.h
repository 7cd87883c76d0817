// Freestanding runtime for code running inside Valgrind: no libstdc++, no
// exceptions, no static constructors. Memory comes from VG_(malloc); the
// containers below are the only ones the tool uses.
#pragma once

#include "mt_vg.h"

// Placement new without <new>: the tool links no C++ runtime.
inline void* operator new(unsigned long, void* p) noexcept { return p; }

namespace mt {

// ---- raw memory ---------------------------------------------------------

void* alloc(const char* cc, SizeT n);             // never returns null
void* alloc_zeroed(const char* cc, SizeT n);
void* realloc(const char* cc, void* p, SizeT n);
void  dealloc(void* p);
char* strdup(const char* cc, const char* s);

// Big tables that start zeroed and fill sparsely (radix nodes, hash tables
// indexed by address) come straight from fresh anonymous pages: a page costs
// resident memory only once something is written to it, where a zeroed
// VG_(malloc) block is resident whole from the start.
void* map_zeroed(SizeT n);
void unmap(void* p, SizeT n);
template <class T> T* map_array(SizeT n) { return static_cast<T*>(map_zeroed(n * sizeof(T))); }

template <class T> T* make_array(const char* cc, SizeT n) {
  return static_cast<T*>(alloc_zeroed(cc, n * sizeof(T)));
}

template <class T> inline T min(T a, T b) { return a < b ? a : b; }
template <class T> inline T max(T a, T b) { return a < b ? b : a; }
template <class T> inline void swap(T& a, T& b) { T t = a; a = b; b = t; }

// Fibonacci hashing of a word: cheap and spreads aligned addresses well.
inline UWord hash_word(UWord w) { return (w * 0x9E3779B97F4A7C15ULL) >> 17; }

// ---- Vec<T>: a growable array of trivially copyable T -------------------

template <class T> class Vec {
 public:
  void init(const char* cc) { cc_ = cc; data_ = nullptr; n_ = cap_ = 0; }
  void free() { dealloc(data_); data_ = nullptr; n_ = cap_ = 0; }
  SizeT size() const { return n_; }
  bool empty() const { return n_ == 0; }
  T& operator[](SizeT i) { return data_[i]; }
  const T& operator[](SizeT i) const { return data_[i]; }
  T* begin() { return data_; }
  T* end() { return data_ + n_; }
  T& back() { return data_[n_ - 1]; }
  void clear() { n_ = 0; }
  void reserve(SizeT want) {
    if (want <= cap_) return;
    SizeT cap = cap_ ? cap_ : 8;
    while (cap < want) cap *= 2;
    data_ = static_cast<T*>(realloc(cc_, data_, cap * sizeof(T)));
    cap_ = cap;
  }
  void resize(SizeT n) { reserve(n); n_ = n; }  // new elements are not initialised
  void push(const T& v) { if (n_ == cap_) reserve(n_ + 1); data_[n_++] = v; }
  T pop() { return data_[--n_]; }
  void insert_at(SizeT i, const T& v) {
    if (n_ == cap_) reserve(n_ + 1);
    VG_(memmove)(data_ + i + 1, data_ + i, (n_ - i) * sizeof(T));
    data_[i] = v;
    n_++;
  }
  void remove_at(SizeT i) {
    VG_(memmove)(data_ + i, data_ + i + 1, (n_ - i - 1) * sizeof(T));
    n_--;
  }

 private:
  const char* cc_;
  T* data_;
  SizeT n_, cap_;
};

// ---- Pool<T>: fixed-size records in big chunks with a free list ---------
// Millions of small records without VG_(malloc)'s per-object overhead.

template <class T> class Pool {
  static_assert(sizeof(T) >= sizeof(void*), "record too small for the free list");

 public:
  void init(const char* cc, SizeT per_chunk) {
    cc_ = cc; per_chunk_ = per_chunk; free_ = nullptr; fresh_ = fresh_end_ = nullptr;
    live_ = 0; chunks_ = 0;
  }
  T* get() {
    live_++;
    if (free_) { Free* f = free_; free_ = f->next; return reinterpret_cast<T*>(f); }
    if (fresh_ == fresh_end_) {
      fresh_ = static_cast<char*>(alloc(cc_, per_chunk_ * sizeof(T)));
      fresh_end_ = fresh_ + per_chunk_ * sizeof(T);
      chunks_++;
    }
    T* t = reinterpret_cast<T*>(fresh_);
    fresh_ += sizeof(T);
    return t;
  }
  void put(T* t) {
    live_--;
    Free* f = reinterpret_cast<Free*>(t);
    f->next = free_;
    free_ = f;
  }
  SizeT live() const { return live_; }
  SizeT bytes_reserved() const { return chunks_ * per_chunk_ * sizeof(T); }

 private:
  struct Free { Free* next; };
  const char* cc_;
  SizeT per_chunk_;
  Free* free_;
  char* fresh_;
  char* fresh_end_;
  SizeT live_, chunks_;
};

// ---- PtrMap<V>: open-addressing map from a nonzero word to a V* ---------
// Keys are addresses or core handles; linear probing with backward-shift
// deletion keeps lookups short without tombstones.

template <class V> class PtrMap {
 public:
  void init(const char* cc, SizeT initial_pow2 = 1024) {
    cc_ = cc; n_ = 0; mask_ = initial_pow2 - 1;
    slots_ = make_array<Slot>(cc, initial_pow2);
  }
  SizeT size() const { return n_; }
  V* get(UWord key) const {
    for (SizeT i = hash_word(key) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return slots_[i].val;
      if (slots_[i].key == 0) return nullptr;
    }
  }
  // Inserts key (which must be absent and nonzero).
  void put(UWord key, V* val) {
    if ((n_ + 1) * 4 > (mask_ + 1) * 3) grow();
    place(key, val);
    n_++;
  }
  V* remove(UWord key) {
    SizeT i = hash_word(key) & mask_;
    for (;; i = (i + 1) & mask_) {
      if (slots_[i].key == key) break;
      if (slots_[i].key == 0) return nullptr;
    }
    V* old = slots_[i].val;
    // Backward-shift: pull later members of the probe run into the hole.
    SizeT hole = i;
    for (SizeT j = (i + 1) & mask_; slots_[j].key != 0; j = (j + 1) & mask_) {
      SizeT home = hash_word(slots_[j].key) & mask_;
      bool movable = (hole <= j) ? (home <= hole || home > j) : (home <= hole && home > j);
      if (movable) { slots_[hole] = slots_[j]; hole = j; }
    }
    slots_[hole].key = 0;
    slots_[hole].val = nullptr;
    n_--;
    return old;
  }
  // Visits every value; f(key, V*) must not change the map.
  template <class F> void each(F f) const {
    for (SizeT i = 0; i <= mask_; i++)
      if (slots_[i].key) f(slots_[i].key, slots_[i].val);
  }
  SizeT bytes_reserved() const { return (mask_ + 1) * sizeof(Slot); }
  // Releases the table (values are the caller's).
  void free_table() { dealloc(slots_); slots_ = nullptr; n_ = 0; mask_ = 0; }

 private:
  struct Slot { UWord key; V* val; };
  void place(UWord key, V* val) {
    SizeT i = hash_word(key) & mask_;
    while (slots_[i].key != 0) i = (i + 1) & mask_;
    slots_[i].key = key;
    slots_[i].val = val;
  }
  void grow() {
    Slot* old = slots_;
    SizeT old_cap = mask_ + 1;
    mask_ = old_cap * 2 - 1;
    slots_ = make_array<Slot>(cc_, old_cap * 2);
    for (SizeT i = 0; i < old_cap; i++)
      if (old[i].key) place(old[i].key, old[i].val);
    dealloc(old);
  }
  const char* cc_;
  Slot* slots_;
  SizeT mask_, n_;
};

// ---- StrIndex: strings numbered in the order first seen -----------------
// (DHAT's frame table: each distinct frame text gets the next number.)

class StrIndex {
 public:
  void init(const char* cc);
  // The number of s, adding a copy of it if it is new.
  UInt intern(const char* s);
  UInt size() const { return (UInt)strs_.size(); }
  const char* at(UInt i) const { return strs_[i]; }

 private:
  void grow();
  const char* cc_;
  Vec<const char*> strs_;
  UInt* slots_;  // index+1 into strs_, 0 = empty
  SizeT mask_;
};

UWord hash_str(const char* s);

// ---- StrBuf: a growable, always NUL-terminated string -------------------

class StrBuf {
 public:
  void init(const char* cc) { cc_ = cc; buf_ = nullptr; len_ = cap_ = 0; reserve(64); }
  void free() { dealloc(buf_); buf_ = nullptr; len_ = cap_ = 0; }
  const char* c_str() const { return buf_; }
  SizeT len() const { return len_; }
  void clear() { len_ = 0; buf_[0] = 0; }
  void append(const char* s, SizeT n);
  void append(const char* s) { append(s, VG_(strlen)(s)); }
  void append_char(char c) { append(&c, 1); }
  void appendf(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
  // A JSON string body: escapes quote, backslash and control bytes; bytes
  // >= 0x80 that are not valid UTF-8 become U+FFFD so any parser accepts it.
  void append_json(const char* s);

 private:
  void reserve(SizeT want);
  const char* cc_;
  char* buf_;
  SizeT len_, cap_;
};

// The client's command line as DHAT writes it in "cmd": the executable
// and its arguments, separated by spaces.
void client_command_line(StrBuf* out);

// ---- Reading a whole (small) file ----------------------------------------

// The file's bytes, NUL-terminated, in memory from alloc(cc) (dealloc it);
// *len its length. Null if it cannot be opened. *complete (if given) says
// whether reading ended at the end of the file rather than at an error.
char* read_whole_file(const char* path, const char* cc, SizeT* len, bool* complete = nullptr);

// ---- OutFile: buffered writes to a file the tool creates ----------------

class OutFile {
 public:
  // Creates or truncates path; false (with errno-like code in err()) if not.
  bool open(const char* path);
  void write(const char* s, SizeT n);
  void puts(const char* s) { write(s, VG_(strlen)(s)); }
  void printf(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
  // Flushes and closes; false if any write failed.
  bool close();
  bool ok() const { return fd_ >= 0 && !failed_; }
  // Why open() failed, in words ("No such file or directory").
  const char* why() const;

  // The same, for an output the user asked for: a failure says so on the
  // log in one line, the same for every output file ("error: can't open
  // WHAT file 'PATH' for writing: why", "error: writing WHAT file 'PATH'
  // failed (disk full?)"). what names the file ("memtrack profile",
  // "--summary-file"); what and path must outlive the file.
  bool open_output(const char* what, const char* path);
  // Also records a file written whole (written_outputs), for the list of
  // files the run ends with.
  bool close_output();

 private:
  void flush();
  Int err_ = 0;
  static constexpr SizeT kBuf = 1 << 16;
  Int fd_ = -1;
  bool failed_ = false;
  const char* what_ = nullptr;
  const char* path_ = nullptr;
  SizeT used_ = 0;
  char* buf_ = nullptr;
};

// How many open_output/close_output calls have failed so far (fini counts
// the ones of its own writes as errors).
UInt failed_outputs();
// An errno value in words, as the C library says it ("Not a directory").
const char* errno_text(Int err);
// The output files close_output() finished, in the order written: what
// (open_output's name) and the path (a copy). At most kMaxWritten; a
// forked child starts with its parent's list, and its own files follow.
struct WrittenOutput {
  const char* what;
  const char* path;
};
constexpr UInt kMaxWritten = 8;
UInt written_outputs(const WrittenOutput** list);

// Formats n with thousands separators, as %'llu does in the core.
const char* commas(ULong n, char* out, SizeT out_len);
// The same, followed by " (+d)" or " (-d)", the change since old, when
// delta is set (memcheck's delta leak searches).
const char* commas_delta(ULong now, ULong old, bool delta, char* out, SizeT out_len);

}  // namespace mt
