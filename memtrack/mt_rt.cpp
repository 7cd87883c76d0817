// Freestanding runtime: memory, strings and buffered files on the core's API.
#include "mt_rt.h"

namespace mt {

void* alloc(const char* cc, SizeT n) { return VG_(malloc)(cc, n ? n : 1); }

void* map_zeroed(SizeT n) {
  void* p = vgcompat::shadow_alloc(VG_PGROUNDUP(n));
  if (!p) vgcompat::out_of_memory("mt.map_zeroed", n);
  return p;
}

void unmap(void* p, SizeT n) {
  if (p) VG_(am_munmap_valgrind)(reinterpret_cast<Addr>(p), VG_PGROUNDUP(n));
}

void* alloc_zeroed(const char* cc, SizeT n) { return VG_(calloc)(cc, 1, n ? n : 1); }

void* realloc(const char* cc, void* p, SizeT n) { return VG_(realloc)(cc, p, n ? n : 1); }

void dealloc(void* p) { if (p) VG_(free)(p); }

char* strdup(const char* cc, const char* s) { return VG_(strdup)(cc, s); }

// ---- StrIndex --------------------------------------------------------------

UWord hash_str(const char* s) {
  UWord h = 1469598103934665603ULL;  // FNV-1a
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

void StrIndex::init(const char* cc) {
  cc_ = cc;
  strs_.init(cc);
  mask_ = 255;
  slots_ = make_array<UInt>(cc, mask_ + 1);
}

void StrIndex::grow() {
  dealloc(slots_);
  mask_ = mask_ * 2 + 1;
  slots_ = make_array<UInt>(cc_, mask_ + 1);
  for (UInt i = 0; i < strs_.size(); i++) {
    SizeT j = hash_str(strs_[i]) & mask_;
    while (slots_[j]) j = (j + 1) & mask_;
    slots_[j] = i + 1;
  }
}

UInt StrIndex::intern(const char* s) {
  SizeT j = hash_str(s) & mask_;
  for (; slots_[j]; j = (j + 1) & mask_)
    if (VG_(strcmp)(strs_[slots_[j] - 1], s) == 0) return slots_[j] - 1;
  UInt i = (UInt)strs_.size();
  strs_.push(strdup(cc_, s));
  slots_[j] = i + 1;
  if ((strs_.size() + 1) * 2 > mask_ + 1) grow();
  return i;
}

// ---- StrBuf --------------------------------------------------------------

void StrBuf::reserve(SizeT want) {
  if (want <= cap_) return;
  SizeT cap = cap_ ? cap_ : 64;
  while (cap < want) cap *= 2;
  buf_ = static_cast<char*>(mt::realloc(cc_, buf_, cap));
  if (cap_ == 0) buf_[0] = 0;
  cap_ = cap;
}

void StrBuf::append(const char* s, SizeT n) {
  reserve(len_ + n + 1);
  VG_(memcpy)(buf_ + len_, s, n);
  len_ += n;
  buf_[len_] = 0;
}

void StrBuf::appendf(const char* fmt, ...) {
  va_list ap;
  for (;;) {
    SizeT room = cap_ - len_;
    va_start(ap, fmt);
    UInt n = VG_(vsnprintf)(buf_ + len_, (Int)room, fmt, ap);
    va_end(ap);
    if (n + 1 <= room) { len_ += n; return; }
    reserve(len_ + n + 1);
  }
}

// Length of a well-formed UTF-8 sequence at s, or 0 if it is not one.
static SizeT utf8_len(const unsigned char* s) {
  unsigned c = s[0];
  SizeT n;
  unsigned min;
  if (c >= 0xC2 && c <= 0xDF) { n = 2; min = 0x80; }
  else if (c >= 0xE0 && c <= 0xEF) { n = 3; min = 0x800; }
  else if (c >= 0xF0 && c <= 0xF4) { n = 4; min = 0x10000; }
  else return 0;
  unsigned cp = c & (0x3F >> (n - 1));
  for (SizeT i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

void StrBuf::append_json(const char* s) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(s);
  while (*p) {
    unsigned c = *p;
    if (c == '"' || c == '\\') {
      char esc[2] = {'\\', (char)c};
      append(esc, 2);
      p++;
    } else if (c < 0x20 || c == 0x7F) {
      appendf("\\u%04x", c);
      p++;
    } else if (c < 0x80) {
      append_char((char)c);
      p++;
    } else {
      SizeT n = utf8_len(p);
      if (n) { append(reinterpret_cast<const char*>(p), n); p += n; }
      else { append("\\ufffd"); p++; }
    }
  }
}

// ---- read_whole_file -------------------------------------------------------

char* read_whole_file(const char* path, const char* cc, SizeT* len, bool* complete) {
  SysRes r = VG_(open)(path, VKI_O_RDONLY, 0);
  if (sr_isError(r)) return nullptr;
  Int fd = (Int)sr_Res(r);
  SizeT cap = 4096, n = 0;
  char* buf = static_cast<char*>(alloc(cc, cap + 1));
  Int got;
  for (;;) {
    if (n == cap) { cap *= 2; buf = static_cast<char*>(mt::realloc(cc, buf, cap + 1)); }
    got = VG_(read)(fd, buf + n, (Int)(cap - n));
    if (got <= 0) break;
    n += (SizeT)got;
  }
  VG_(close)(fd);
  buf[n] = 0;
  *len = n;
  if (complete) *complete = got == 0;
  return buf;
}

// ---- OutFile ---------------------------------------------------------------

bool OutFile::open(const char* path) {
  SysRes r = VG_(open)(path, VKI_O_CREAT | VKI_O_TRUNC | VKI_O_WRONLY, VKI_S_IRUSR | VKI_S_IWUSR | VKI_S_IRGRP | VKI_S_IROTH);
  if (sr_isError(r)) { fd_ = -1; err_ = (Int)sr_Err(r); return false; }
  err_ = 0;
  fd_ = (Int)sr_Res(r);
  failed_ = false;
  used_ = 0;
  buf_ = static_cast<char*>(alloc("mt.outfile", kBuf));
  return true;
}

const char* OutFile::why() const { return errno_text(err_); }

const char* errno_text(Int err) {
  switch (err) {
    case VKI_ENOENT: return "No such file or directory";
    case VKI_ENOTDIR: return "Not a directory";
    case VKI_EISDIR: return "Is a directory";
    case VKI_EACCES: return "Permission denied";
    case VKI_EPERM: return "Operation not permitted";
    case VKI_EROFS: return "Read-only file system";
    case VKI_ENOSPC: return "No space left on device";
    case 36: return "File name too long";  // ENAMETOOLONG (no VKI_ name)
    case VKI_ELOOP: return "Too many levels of symbolic links";
    case VKI_EMFILE: case VKI_ENFILE: return "Too many open files";
    case VKI_ETXTBSY: return "Text file busy";
    default: return "cannot be created";
  }
}

void OutFile::flush() {
  SizeT off = 0;
  while (off < used_ && !failed_) {
    Int n = VG_(write)(fd_, buf_ + off, (Int)(used_ - off));
    if (n <= 0) failed_ = true; else off += (SizeT)n;
  }
  used_ = 0;
}

void OutFile::write(const char* s, SizeT n) {
  if (fd_ < 0) return;
  while (n > 0) {
    if (used_ == kBuf) flush();
    SizeT k = min(n, kBuf - used_);
    VG_(memcpy)(buf_ + used_, s, k);
    used_ += k; s += k; n -= k;
  }
}

void OutFile::printf(const char* fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  UInt n = VG_(vsnprintf)(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < sizeof tmp) { write(tmp, n); return; }
  va_start(ap, fmt);
  // Long lines are rare; format once more into a buffer of the right size.
  char* b = static_cast<char*>(alloc("mt.outfile.fmt", n + 1));
  VG_(vsnprintf)(b, (Int)n + 1, fmt, ap);
  va_end(ap);
  write(b, n);
  dealloc(b);
}

namespace {
UInt g_failed_outputs;
}  // namespace

UInt failed_outputs() { return g_failed_outputs; }

bool OutFile::open_output(const char* what, const char* path) {
  what_ = what;
  path_ = path;
  if (open(path)) return true;
  VG_(umsg)("error: can't open %s file '%s' for writing: %s\n", what, path, why());
  g_failed_outputs++;
  return false;
}

namespace {
WrittenOutput g_written[kMaxWritten];
UInt g_n_written;
}  // namespace

UInt written_outputs(const WrittenOutput** list) {
  *list = g_written;
  return g_n_written;
}

bool OutFile::close_output() {
  if (close()) {
    if (g_n_written < kMaxWritten) g_written[g_n_written++] = {what_, strdup("mt.outfile.written", path_)};
    return true;
  }
  VG_(umsg)("error: writing %s file '%s' failed (disk full?)\n", what_, path_);
  g_failed_outputs++;
  return false;
}

bool OutFile::close() {
  if (fd_ < 0) return false;
  flush();
  VG_(close)(fd_);
  fd_ = -1;
  dealloc(buf_);
  buf_ = nullptr;
  return !failed_;
}

const char* commas(ULong n, char* out, SizeT out_len) {
  char digits[32];
  Int nd = 0;
  do { digits[nd++] = (char)('0' + n % 10); n /= 10; } while (n);
  SizeT o = 0;
  for (Int i = nd - 1; i >= 0 && o + 1 < out_len; i--) {
    out[o++] = digits[i];
    if (i > 0 && i % 3 == 0 && o + 1 < out_len) out[o++] = ',';
  }
  out[o] = 0;
  return out;
}

const char* commas_delta(ULong now, ULong old, bool delta, char* out, SizeT out_len) {
  char a[32];
  commas(now, a, sizeof a);
  if (!delta) {
    VG_(snprintf)(out, (Int)out_len, "%s", a);
    return out;
  }
  char b[32];
  commas(now >= old ? now - old : old - now, b, sizeof b);
  VG_(snprintf)(out, (Int)out_len, "%s (%c%s)", a, now >= old ? '+' : '-', b);
  return out;
}

void client_command_line(StrBuf* out) {
  out->append(VG_(args_the_exename) ? VG_(args_the_exename) : "");
  for (Word i = 0; i < VG_(sizeXA)(VG_(args_for_client)); i++) {
    out->append_char(' ');
    out->append(*static_cast<HChar**>(VG_(indexXA)(VG_(args_for_client), i)));
  }
}

}  // namespace mt
