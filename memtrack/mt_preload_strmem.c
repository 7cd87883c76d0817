/*
   mt_preload_strmem.c: memtrack's own versions of libc's string and memory
   functions. Built into vgpreload_memtrack-PLATFORM.so (amd64-linux,
   arm64-linux), they run on the simulated CPU in place of glibc's.

   Why we have them
   ----------------
   DHAT replaces these functions with plain loops, so under DHAT a program
   never runs glibc's SIMD versions, which read past the end of strings (up
   to the next aligned boundary) and copy with overlapping wide stores.
   memtrack counts the bytes read and written inside each heap block and
   must agree with DHAT exactly, so it replaces the same set of functions
   as the DHAT of the Valgrind it is built against (the symbol list of
   Debian's vgpreload_dhat-amd64-linux.so, no more, no fewer; the arm64 one
   has the same list plus four ld.so names that Valgrind leaves out on
   amd64 only, see strchr below): 3.19's set,
   plus what later releases added, each under its MT_VG_DHAT_STRMEM_3xx
   (mt_vgcompat.h). Each version here touches exactly the bytes DHAT's
   compiled replacement touches: the same bytes, the same number of times,
   with the same access widths where those are wider than one byte.

   That last point is about DHAT's compiled code, not just C semantics.
   Where gcc kept a re-read in Valgrind's build, it is kept here too: memcmp
   re-reads the first differing word byte by byte; strstr re-reads the first
   candidate byte; the strncasecmp family reloads bytes after each call to
   tolower (a call may change memory, as far as the compiler knows). To make
   this independent of our own compiler's choices, every access to the
   caller's memory goes through the helpers below: one helper call is
   exactly one load or store of the stated width. All but ld8 are volatile;
   byte loads are plain so that gcc emits the same loops as Valgrind's own
   replacements (indexed compares), which keeps the instruction counts, and
   so the time axis, close to DHAT's; gcc neither widens nor drops byte
   loads in loops that stop at a NUL or a difference.

   The copy functions also tell the tool how many bytes they copied, for
   --mode=copy: one _VG_USERREQ__MEMTRACK_COPY request per call, sent by the
   same functions and with the same length as that release's DHAT sends its
   own copy request (for strcpy and friends: the terminating NUL included;
   what each counts is said with it). The tool
   ignores it in the other modes. The request is sent from the exported
   function's own body, so the copy's stack starts at the replaced function,
   as DHAT's does.

   The same C serves amd64-linux and arm64-linux: the accesses are the C
   code's, through the helpers below, whichever compiler emits them (an
   arm64 ldp/stp pair is two accesses in Valgrind's IR, as two movs are on
   amd64). What differs between the two is marked where it is: the raw
   exit in chk_fail, and the strchr names. It must not call into libc
   except for tolower/tolower_l, whose locale tables it cannot know (DHAT
   calls the same two, so their accesses are the same too).
*/

#include "mt_preload.h"

/*------------------------------------------------------------------*/
/*--- Helpers                                                    ---*/
/*------------------------------------------------------------------*/

#define MT_INLINE static inline __attribute__((always_inline))

/* One access each, of exactly the width named. */
MT_INLINE UChar  ld8 (Addr a)           { return *(const UChar*)a; }
MT_INLINE UShort ld16(Addr a)           { return *(const volatile UShort*)a; }
MT_INLINE Int    ld32(Addr a)           { return *(const volatile Int*)a; }
MT_INLINE ULong  ld64(Addr a)           { return *(const volatile ULong*)a; }
MT_INLINE void   st8 (Addr a, UChar v)  { *(volatile UChar*)a = v; }
MT_INLINE void   st16(Addr a, UShort v) { *(volatile UShort*)a = v; }
MT_INLINE void   st32(Addr a, Int v)    { *(volatile Int*)a = v; }
MT_INLINE void   st64(Addr a, ULong v)  { *(volatile ULong*)a = v; }

/* A 16-byte store that needs only 8-byte alignment (memset's bulk loop). */
typedef ULong MtV128 __attribute__((vector_size(16), aligned(8)));
MT_INLINE void   st128(Addr a, MtV128 v) { *(volatile MtV128*)a = v; }

/* Do [a, a+alen) and [b, b+blen) share a byte? Empty ranges share none. */
MT_INLINE Bool ranges_overlap(Addr a, SizeT alen, Addr b, SizeT blen)
{
   if (alen == 0 || blen == 0) return False;
   if (a == b) return True;
   return a < b ? a + alen > b : b + blen > a;
}

/* tolower and tolower_l depend on the locale, so glibc's own are called
   (weakly bound: the preload itself has no DT_NEEDED). */
extern int tolower(int) __attribute__((weak));
extern int tolower_l(int, void*) __attribute__((weak));

/* --mode=copy: one copy event of len bytes at the current stack. */
#define MT_RECORD_COPY(len)                                                 \
   VALGRIND_DO_CLIENT_REQUEST_STMT(_VG_USERREQ__MEMTRACK_COPY,             \
                                   (len), 0, 0, 0, 0)

/* The fortified (__*_chk) functions end the program when the destination
   is too small: a backtrace to Valgrind's log, then exit status 1, without
   running exit handlers (a raw exit_group, as glibc's _exit does). */
__attribute__((noreturn))
MT_INLINE void chk_fail(const char* what)
{
   VALGRIND_PRINTF_BACKTRACE("*** %s: buffer overflow detected ***: "
                             "program terminated\n", what);
   for (;;) {
#if defined(VGA_amd64)
      __asm__ __volatile__("syscall" : : "a"(231 /* exit_group */), "D"(1)
                           : "rcx", "r11", "memory");
#elif defined(VGA_arm64)
      register long x8 __asm__("x8") = 94;  /* exit_group */
      register long x0 __asm__("x0") = 1;
      __asm__ __volatile__("svc #0" : "+r"(x0) : "r"(x8) : "memory");
#else
#error "memtrack's preload supports amd64-linux and arm64-linux only"
#endif
   }
}

/* Each exported replacement is declared before it is defined. */
#define MT_FN_EZU(ret, tag, soname, fnname, params)                         \
   ret VG_REPLACE_FUNCTION_EZU(tag, soname, fnname) params;                 \
   ret VG_REPLACE_FUNCTION_EZU(tag, soname, fnname) params
#define MT_FN_EZZ(ret, tag, soname, fnname, params)                         \
   ret VG_REPLACE_FUNCTION_EZZ(tag, soname, fnname) params;                 \
   ret VG_REPLACE_FUNCTION_EZZ(tag, soname, fnname) params

/*------------------------------------------------------------------*/
/*--- Searching a string: strrchr, strchr, strchrnul, rawmemchr  ---*/
/*------------------------------------------------------------------*/

/* strrchr reads the whole string, NUL included; the others stop at (and
   include) the byte found. rawmemchr has no length and no NUL check. */

MT_INLINE char* str_rchr(const char* s, int c)
{
   UChar ch = (UChar)c;
   Addr p = (Addr)s, last = 0;
   for (;; p++) {
      UChar b = ld8(p);
      if (b == ch) last = p;
      if (b == 0) return (char*)last;
   }
}

MT_INLINE char* str_chr(const char* s, int c)
{
   UChar ch = (UChar)c;
   for (Addr p = (Addr)s;; p++) {
      UChar b = ld8(p);
      if (b == ch) return (char*)p;
      if (b == 0) return NULL;
   }
}

MT_INLINE char* str_chrnul(const char* s, int c)
{
   UChar ch = (UChar)c;
   for (Addr p = (Addr)s;; p++) {
      UChar b = ld8(p);
      if (b == 0 || b == ch) return (char*)p;
   }
}

MT_INLINE void* raw_memchr(const void* s, int c)
{
   UChar ch = (UChar)c;
   Addr p = (Addr)s;
   while (ld8(p) != ch) p++;
   return (void*)p;
}

#define MT_STRRCHR(soname, fnname) \
   MT_FN_EZU(char*, 20010, soname, fnname, (const char* s, int c)) \
   { return str_rchr(s, c); }
#define MT_STRCHR(soname, fnname) \
   MT_FN_EZU(char*, 20020, soname, fnname, (const char* s, int c)) \
   { return str_chr(s, c); }
#define MT_STRCHRNUL(soname, fnname) \
   MT_FN_EZU(char*, 20250, soname, fnname, (const char* s, int c)) \
   { return str_chrnul(s, c); }
#define MT_RAWMEMCHR(soname, fnname) \
   MT_FN_EZU(void*, 20260, soname, fnname, (const void* s, int c)) \
   { return raw_memchr(s, c); }

/* rindex and index are the old names of strrchr and strchr. */
MT_STRRCHR(VG_Z_LIBC_SONAME,   strrchr)
MT_STRRCHR(VG_Z_LIBC_SONAME,   rindex)
MT_STRRCHR(VG_Z_LIBC_SONAME,   __GI_strrchr)
MT_STRRCHR(VG_Z_LIBC_SONAME,   __strrchr_sse2)
MT_STRRCHR(VG_Z_LIBC_SONAME,   __strrchr_sse2_no_bsf)
MT_STRRCHR(VG_Z_LIBC_SONAME,   __strrchr_sse42)
MT_STRRCHR(VG_Z_LD_LINUX_SO_2, rindex)

MT_STRCHR(VG_Z_LIBC_SONAME, strchr)
MT_STRCHR(VG_Z_LIBC_SONAME, index)
MT_STRCHR(VG_Z_LIBC_SONAME, __GI_strchr)
MT_STRCHR(VG_Z_LIBC_SONAME, __strchr_sse2)
MT_STRCHR(VG_Z_LIBC_SONAME, __strchr_sse2_no_bsf)
/* Valgrind's list has these four on every Linux but x86 and amd64 (it
   gives no reason), so DHAT's arm64 preload has them and so does ours;
   they name no arm64 library, so nothing binds them there. */
#if !defined(VGA_amd64)
MT_STRCHR(VG_Z_LD_LINUX_SO_2,        strchr)
MT_STRCHR(VG_Z_LD_LINUX_SO_2,        index)
MT_STRCHR(VG_Z_LD_LINUX_X86_64_SO_2, strchr)
MT_STRCHR(VG_Z_LD_LINUX_X86_64_SO_2, index)
#endif

MT_STRCHRNUL(VG_Z_LIBC_SONAME, strchrnul)

MT_RAWMEMCHR(VG_Z_LIBC_SONAME, rawmemchr)
MT_RAWMEMCHR(VG_Z_LIBC_SONAME, __GI___rawmemchr)

/*------------------------------------------------------------------*/
/*--- Lengths: strlen, strnlen                                   ---*/
/*------------------------------------------------------------------*/

/* strlen reads len+1 bytes; strnlen reads at most n (never s[n]). */

MT_INLINE SizeT str_len(const char* s)
{
   SizeT i = 0;
   while (ld8((Addr)s + i) != 0) i++;
   return i;
}

MT_INLINE SizeT str_nlen(const char* s, SizeT n)
{
   SizeT i = 0;
   while (i < n && ld8((Addr)s + i) != 0) i++;
   return i;
}

#define MT_STRLEN(soname, fnname) \
   MT_FN_EZU(SizeT, 20070, soname, fnname, (const char* s)) \
   { return str_len(s); }
#define MT_STRNLEN(soname, fnname) \
   MT_FN_EZU(SizeT, 20060, soname, fnname, (const char* s, SizeT n)) \
   { return str_nlen(s, n); }

MT_STRLEN(VG_Z_LIBC_SONAME,          strlen)
MT_STRLEN(VG_Z_LIBC_SONAME,          __GI_strlen)
MT_STRLEN(VG_Z_LIBC_SONAME,          __strlen_sse2)
MT_STRLEN(VG_Z_LIBC_SONAME,          __strlen_sse2_no_bsf)
MT_STRLEN(VG_Z_LIBC_SONAME,          __strlen_sse42)
MT_STRLEN(VG_Z_LD_LINUX_SO_2,        strlen)
MT_STRLEN(VG_Z_LD_LINUX_X86_64_SO_2, strlen)

MT_STRNLEN(VG_Z_LIBC_SONAME, strnlen)
MT_STRNLEN(VG_Z_LIBC_SONAME, __GI_strnlen)

/*------------------------------------------------------------------*/
/*--- Appending: strcat, strncat                                 ---*/
/*------------------------------------------------------------------*/

/* Both read dst up to its NUL, then copy; DHAT records no copy event for
   them. strncat reads at most n bytes of src and always writes a NUL. */

MT_INLINE char* str_cat(char* dst, const char* src)
{
   Addr d = (Addr)dst, s = (Addr)src;
   while (ld8(d) != 0) d++;
   for (;; s++, d++) {
      UChar b = ld8(s);
      if (b == 0) break;
      st8(d, b);
   }
   st8(d, 0);
   return dst;
}

MT_INLINE char* str_ncat(char* dst, const char* src, SizeT n)
{
   Addr d = (Addr)dst, s = (Addr)src;
   while (ld8(d) != 0) d++;
   for (SizeT m = 0; m < n; m++, s++, d++) {
      UChar b = ld8(s);
      if (b == 0) break;
      st8(d, b);
   }
   st8(d, 0);
   return dst;
}

#define MT_STRCAT(soname, fnname) \
   MT_FN_EZU(char*, 20030, soname, fnname, (char* dst, const char* src)) \
   { return str_cat(dst, src); }
#define MT_STRNCAT(soname, fnname) \
   MT_FN_EZU(char*, 20040, soname, fnname, (char* dst, const char* src, SizeT n)) \
   { return str_ncat(dst, src, n); }

MT_STRCAT(VG_Z_LIBC_SONAME, strcat)
MT_STRCAT(VG_Z_LIBC_SONAME, __GI_strcat)

MT_STRNCAT(VG_Z_LIBC_SONAME, strncat)

/*------------------------------------------------------------------*/
/*--- Copying strings: strcpy, stpcpy, strncpy, stpncpy          ---*/
/*------------------------------------------------------------------*/

/* strcpy/stpcpy read and write len+1 bytes and record a copy of len+1.
   strncpy/stpncpy read src up to its NUL but at most n bytes, write
   exactly n (NUL padding), and record the bytes read from src. */

/* Copies src with its NUL; returns the address of the NUL written. */
MT_INLINE Addr copy_str(Addr d, Addr s)
{
   for (;; s++, d++) {
      UChar b = ld8(s);
      if (b == 0) break;
      st8(d, b);
   }
   st8(d, 0);
   return d;
}

/* The bounded copy up to the padding: returns how many non-NUL bytes were
   copied (m <= n); *src_read gets the bytes of src read. */
MT_INLINE SizeT copy_str_bounded(Addr d, Addr s, SizeT n, SizeT* src_read)
{
   SizeT m = 0;
   while (m < n) {
      UChar b = ld8(s + m);
      if (b == 0) break;
      st8(d + m, b);
      m++;
   }
   *src_read = m < n ? m + 1 : n;
   return m;
}

MT_INLINE void zero_pad(Addr d, SizeT from, SizeT n)
{
   for (SizeT i = from; i < n; i++) st8(d + i, 0);
}

#define MT_STRCPY(soname, fnname) \
   MT_FN_EZU(char*, 20080, soname, fnname, (char* dst, const char* src)) \
   { \
      Addr end = copy_str((Addr)dst, (Addr)src); \
      MT_RECORD_COPY(end - (Addr)dst + 1); \
      return dst; \
   }
#define MT_STPCPY(soname, fnname) \
   MT_FN_EZU(char*, 20200, soname, fnname, (char* dst, const char* src)) \
   { \
      Addr end = copy_str((Addr)dst, (Addr)src); \
      MT_RECORD_COPY(end - (Addr)dst + 1); \
      return (char*)end; \
   }
#define MT_STRNCPY(soname, fnname) \
   MT_FN_EZU(char*, 20090, soname, fnname, (char* dst, const char* src, SizeT n)) \
   { \
      SizeT read; \
      SizeT m = copy_str_bounded((Addr)dst, (Addr)src, n, &read); \
      MT_RECORD_COPY(read); \
      zero_pad((Addr)dst, m, n); \
      return dst; \
   }
#define MT_STPNCPY(soname, fnname) \
   MT_FN_EZU(char*, 20420, soname, fnname, (char* dst, const char* src, SizeT n)) \
   { \
      SizeT read; \
      SizeT m = copy_str_bounded((Addr)dst, (Addr)src, n, &read); \
      MT_RECORD_COPY(read); \
      zero_pad((Addr)dst, m, n); \
      return dst + m; \
   }

MT_STRCPY(VG_Z_LIBC_SONAME, strcpy)
MT_STRCPY(VG_Z_LIBC_SONAME, __GI_strcpy)

MT_STPCPY(VG_Z_LIBC_SONAME,           stpcpy)
MT_STPCPY(VG_Z_LIBC_SONAME,           __GI_stpcpy)
MT_STPCPY(VG_Z_LIBC_SONAME,           __stpcpy_sse2)
MT_STPCPY(VG_Z_LIBC_SONAME,           __stpcpy_sse2_unaligned)
MT_STPCPY(VG_Z_LD_LINUX_SO_2,         stpcpy)
MT_STPCPY(VG_Z_LD_LINUX_X86_64_SO_2,  stpcpy)
MT_STPCPY(VG_Z_LD_LINUX_AARCH64_SO_1, stpcpy)

MT_STRNCPY(VG_Z_LIBC_SONAME, strncpy)
MT_STRNCPY(VG_Z_LIBC_SONAME, __GI_strncpy)
MT_STRNCPY(VG_Z_LIBC_SONAME, __strncpy_sse2)
MT_STRNCPY(VG_Z_LIBC_SONAME, __strncpy_sse2_unaligned)

MT_STPNCPY(VG_Z_LIBC_SONAME, stpncpy)

/*------------------------------------------------------------------*/
/*--- Size-bounded copies: strlcpy, strlcat (3.23+)              ---*/
/*------------------------------------------------------------------*/

/* Both return the length of the string they tried to make, and both end
   by walking the rest of src to its NUL, starting at the byte where the
   copy stopped (so the NUL that ended the copy is read twice).
   strlcpy copies at most n-1 bytes, writes a NUL if n > 0, and records a
   copy of the bytes copied plus one (0 when n == 0), whether or not src
   fitted. strlcat reads dst up to its NUL but at most n bytes; if it found
   one, it appends at most n-1-strlen(dst) bytes and a NUL; it records no
   copy. */

#if MT_VG_DHAT_STRMEM_323

/* Reads from s up to its NUL and returns that NUL's address. */
MT_INLINE Addr str_end(Addr s)
{
   while (ld8(s) != 0) s++;
   return s;
}

#define MT_STRLCPY(soname, fnname) \
   MT_FN_EZU(SizeT, 20100, soname, fnname, (char* dst, const char* src, SizeT n)) \
   { \
      Addr d = (Addr)dst, s = (Addr)src; \
      SizeT m = 0; \
      for (; m + 1 < n; m++) { \
         UChar b = ld8(s + m); \
         if (b == 0) break; \
         st8(d + m, b); \
      } \
      MT_RECORD_COPY(n == 0 ? 0 : m + 1); \
      if (n > 0) st8(d + m, 0); \
      return str_end(s + m) - s; \
   }
#define MT_STRLCAT(soname, fnname) \
   MT_FN_EZU(SizeT, 20050, soname, fnname, (char* dst, const char* src, SizeT n)) \
   { \
      Addr d = (Addr)dst, s = (Addr)src; \
      SizeT m = 0; \
      while (m < n && ld8(d) != 0) { m++; d++; } \
      if (m < n) { \
         for (; m + 1 < n; m++, s++, d++) { \
            UChar b = ld8(s); \
            if (b == 0) break; \
            st8(d, b); \
         } \
         st8(d, 0); \
      } \
      return m + (str_end(s) - s); \
   }

MT_STRLCPY(VG_Z_LIBC_SONAME, strlcpy)
MT_STRLCAT(VG_Z_LIBC_SONAME, strlcat)

#endif

/*------------------------------------------------------------------*/
/*--- Fortified string copies: __strcpy_chk, __stpcpy_chk        ---*/
/*------------------------------------------------------------------*/

/* Like strcpy, but dstlen bounds the destination: reaching it before the
   NUL is written ends the program. A completed copy records len+1. */

/* Returns the address just past the NUL written. */
MT_INLINE Addr copy_str_chk(Addr d, Addr s, SizeT dstlen, const char* what)
{
   if (dstlen == 0) chk_fail(what);
   for (;;) {
      UChar b = ld8(s++);
      st8(d++, b);
      if (b == 0) return d;
      if (--dstlen == 0) chk_fail(what);
   }
}

#define MT_STRCPY_CHK(soname, fnname) \
   MT_FN_EZU(char*, 20270, soname, fnname, (char* dst, const char* src, SizeT dstlen)) \
   { \
      Addr past = copy_str_chk((Addr)dst, (Addr)src, dstlen, "strcpy_chk"); \
      MT_RECORD_COPY(past - (Addr)dst); \
      return dst; \
   }
#define MT_STPCPY_CHK(soname, fnname) \
   MT_FN_EZU(char*, 20280, soname, fnname, (char* dst, const char* src, SizeT dstlen)) \
   { \
      Addr past = copy_str_chk((Addr)dst, (Addr)src, dstlen, "stpcpy_chk"); \
      MT_RECORD_COPY(past - (Addr)dst); \
      return (char*)(past - 1); \
   }

MT_STRCPY_CHK(VG_Z_LIBC_SONAME, __strcpy_chk)
MT_STPCPY_CHK(VG_Z_LIBC_SONAME, __stpcpy_chk)

/*------------------------------------------------------------------*/
/*--- Comparing strings: strcmp, strncmp                         ---*/
/*------------------------------------------------------------------*/

/* One byte of each string per step, up to and including the first byte
   that differs or the NUL they share (strncmp: at most n steps). */

MT_INLINE int str_cmp(const char* s1, const char* s2)
{
   Addr a = (Addr)s1, b = (Addr)s2;
   UChar c1, c2;
   for (;; a++, b++) {
      c1 = ld8(a);
      c2 = ld8(b);
      if (c1 != c2 || c1 == 0) break;
   }
   return c1 < c2 ? -1 : c1 > c2 ? 1 : 0;
}

MT_INLINE int str_ncmp(const char* s1, const char* s2, SizeT n)
{
   Addr a = (Addr)s1, b = (Addr)s2;
   for (SizeT i = 0; i < n; i++) {
      UChar c1 = ld8(a + i), c2 = ld8(b + i);
      if (c1 == 0) return c2 == 0 ? 0 : -1;
      if (c2 == 0) return 1;
      if (c1 < c2) return -1;
      if (c1 > c2) return 1;
   }
   return 0;
}

#define MT_STRCMP(soname, fnname) \
   MT_FN_EZU(int, 20160, soname, fnname, (const char* s1, const char* s2)) \
   { return str_cmp(s1, s2); }
#define MT_STRNCMP(soname, fnname) \
   MT_FN_EZU(int, 20110, soname, fnname, (const char* s1, const char* s2, SizeT n)) \
   { return str_ncmp(s1, s2, n); }

MT_STRCMP(VG_Z_LIBC_SONAME,          strcmp)
MT_STRCMP(VG_Z_LIBC_SONAME,          __GI_strcmp)
MT_STRCMP(VG_Z_LIBC_SONAME,          __strcmp_sse2)
MT_STRCMP(VG_Z_LIBC_SONAME,          __strcmp_sse42)
MT_STRCMP(VG_Z_LD_LINUX_X86_64_SO_2, strcmp)
MT_STRCMP(VG_Z_LD64_SO_1,            strcmp)

MT_STRNCMP(VG_Z_LIBC_SONAME, strncmp)
MT_STRNCMP(VG_Z_LIBC_SONAME, __GI_strncmp)
MT_STRNCMP(VG_Z_LIBC_SONAME, __strncmp_sse2)
MT_STRNCMP(VG_Z_LIBC_SONAME, __strncmp_sse42)
#if MT_VG_DHAT_STRMEM_320
MT_STRNCMP(VG_Z_LD_LINUX_SO_2,        strncmp)
MT_STRNCMP(VG_Z_LD_LINUX_X86_64_SO_2, strncmp)
#endif

/*------------------------------------------------------------------*/
/*--- Comparing without case: strcasecmp, strncasecmp, *_l       ---*/
/*------------------------------------------------------------------*/

/* strcasecmp: per step, a byte of s1 then a byte of s2, each folded by
   tolower; the folded values are compared as bytes.
   strncasecmp: per step, a byte of each (the NUL checks), then s2 again
   for "less than", then both again for "greater than" (DHAT's build
   reloads them after each tolower call). The folded values are compared
   as ints. The _l variants fold with tolower_l(c, locale). */

MT_INLINE int fold(UChar c, void* locale, Bool with_locale)
{
   return with_locale ? tolower_l(c, locale) : tolower(c);
}

MT_INLINE int str_casecmp(const char* s1, const char* s2, void* loc, Bool with_loc)
{
   Addr a = (Addr)s1, b = (Addr)s2;
   UChar c1, c2;
   for (;; a++, b++) {
      c1 = (UChar)fold(ld8(a), loc, with_loc);
      c2 = (UChar)fold(ld8(b), loc, with_loc);
      if (c1 != c2 || c1 == 0) break;
   }
   return c1 < c2 ? -1 : c1 > c2 ? 1 : 0;
}

MT_INLINE int str_ncasecmp(const char* s1, const char* s2, SizeT n,
                           void* loc, Bool with_loc)
{
   Addr a = (Addr)s1, b = (Addr)s2;
   for (SizeT i = 0; i < n; i++, a++, b++) {
      UChar c1 = ld8(a), c2 = ld8(b);
      if (c1 == 0) return c2 == 0 ? 0 : -1;
      if (c2 == 0) return 1;
      int f1 = fold(c1, loc, with_loc);
      int f2 = fold(ld8(b), loc, with_loc);
      if (f1 < f2) return -1;
      f1 = fold(ld8(a), loc, with_loc);
      f2 = fold(ld8(b), loc, with_loc);
      if (f1 > f2) return 1;
   }
   return 0;
}

#define MT_STRCASECMP(soname, fnname) \
   MT_FN_EZU(int, 20120, soname, fnname, (const char* s1, const char* s2)) \
   { return str_casecmp(s1, s2, NULL, False); }
#define MT_STRNCASECMP(soname, fnname) \
   MT_FN_EZU(int, 20130, soname, fnname, (const char* s1, const char* s2, SizeT n)) \
   { return str_ncasecmp(s1, s2, n, NULL, False); }
#define MT_STRCASECMP_L(soname, fnname) \
   MT_FN_EZU(int, 20140, soname, fnname, (const char* s1, const char* s2, void* loc)) \
   { return str_casecmp(s1, s2, loc, True); }
#define MT_STRNCASECMP_L(soname, fnname) \
   MT_FN_EZU(int, 20150, soname, fnname, (const char* s1, const char* s2, SizeT n, void* loc)) \
   { return str_ncasecmp(s1, s2, n, loc, True); }

MT_STRCASECMP(VG_Z_LIBC_SONAME, strcasecmp)
MT_STRCASECMP(VG_Z_LIBC_SONAME, __GI_strcasecmp)

MT_STRNCASECMP(VG_Z_LIBC_SONAME, strncasecmp)
MT_STRNCASECMP(VG_Z_LIBC_SONAME, __GI_strncasecmp)

MT_STRCASECMP_L(VG_Z_LIBC_SONAME, strcasecmp_l)
MT_STRCASECMP_L(VG_Z_LIBC_SONAME, __GI_strcasecmp_l)
MT_STRCASECMP_L(VG_Z_LIBC_SONAME, __GI___strcasecmp_l)

MT_STRNCASECMP_L(VG_Z_LIBC_SONAME, strncasecmp_l)
MT_STRNCASECMP_L(VG_Z_LIBC_SONAME, __GI_strncasecmp_l)
MT_STRNCASECMP_L(VG_Z_LIBC_SONAME, __GI___strncasecmp_l)

/*------------------------------------------------------------------*/
/*--- Substrings and byte sets: strstr, strcasestr, strpbrk,     ---*/
/*--- strcspn, strspn                                            ---*/
/*------------------------------------------------------------------*/

/* All first measure the needle/set (reading it up to its NUL), then walk
   the string one byte at a time.
   strstr: an empty needle matches at once (the haystack is not read).
   When a haystack byte equals the needle's first byte, the candidate is
   compared from its first byte again, needle byte and haystack byte
   alternately, up to the first difference or the needle's end.
   strcasestr: the same with every byte folded by tolower (as a signed
   char, which is what the C source passed); candidate comparisons read the
   needle byte before the haystack byte.
   strpbrk/strcspn/strspn: each string byte is compared against the set's
   bytes in order, stopping at the first match. An empty set makes strpbrk
   and strspn return at once (the string is not read); strcspn still walks
   the string to its NUL. */

MT_INLINE char* str_str(const char* hay, const char* needle)
{
   Addr h = (Addr)hay, n = (Addr)needle;
   UChar n0 = ld8(n);
   if (n0 == 0) return (char*)h;
   SizeT nlen = 1;
   while (ld8(n + nlen) != 0) nlen++;
   for (;; h++) {
      UChar hb = ld8(h);
      if (hb == 0) return NULL;
      if (hb != n0) continue;
      SizeT i = 0;
      while (i < nlen && ld8(h + i) == ld8(n + i)) i++;
      if (i == nlen) return (char*)h;
   }
}

MT_INLINE int fold_signed(UChar c)
{
   return tolower((int)(HChar)c);
}

MT_INLINE char* str_casestr(const char* hay, const char* needle)
{
   Addr h = (Addr)hay, n = (Addr)needle;
   UChar first = ld8(n);
   if (first == 0) return (char*)h;
   SizeT nlen = 1;
   while (ld8(n + nlen) != 0) nlen++;
   UChar n0 = (UChar)fold_signed(first);
   for (;; h++) {
      UChar hb = (UChar)fold_signed(ld8(h));
      if (hb == 0) return NULL;
      if (hb != n0) continue;
      SizeT i = 0;
      while (i < nlen) {
         int fn = fold_signed(ld8(n + i));
         int fh = fold_signed(ld8(h + i));
         if (fn != fh) break;
         i++;
      }
      if (i == nlen) return (char*)h;
   }
}

MT_INLINE SizeT set_len(Addr set)
{
   SizeT k = 0;
   while (ld8(set + k) != 0) k++;
   return k;
}

/* Index of b in set[0..k), or k if it is not there. */
MT_INLINE SizeT set_find(Addr set, SizeT k, UChar b)
{
   SizeT i = 0;
   while (i < k && ld8(set + i) != b) i++;
   return i;
}

MT_INLINE char* str_pbrk(const char* s, const char* accept)
{
   Addr set = (Addr)accept;
   SizeT k = set_len(set);
   if (k == 0) return NULL;
   for (Addr p = (Addr)s;; p++) {
      UChar b = ld8(p);
      if (b == 0) return NULL;
      if (set_find(set, k, b) < k) return (char*)p;
   }
}

MT_INLINE SizeT str_cspn(const char* s, const char* reject)
{
   Addr set = (Addr)reject;
   SizeT k = set_len(set);
   SizeT len = 0;
   for (;; len++) {
      UChar b = ld8((Addr)s + len);
      if (b == 0) return len;
      if (set_find(set, k, b) < k) return len;
   }
}

MT_INLINE SizeT str_spn(const char* s, const char* accept)
{
   Addr set = (Addr)accept;
   SizeT k = set_len(set);
   if (k == 0) return 0;
   SizeT len = 0;
   for (;; len++) {
      UChar b = ld8((Addr)s + len);
      if (b == 0) return len;
      if (set_find(set, k, b) == k) return len;
   }
}

#define MT_STRSTR(soname, fnname) \
   MT_FN_EZU(char*, 20310, soname, fnname, (const char* h, const char* n)) \
   { return str_str(h, n); }
#define MT_STRCASESTR(soname, fnname) \
   MT_FN_EZU(char*, 20350, soname, fnname, (const char* h, const char* n)) \
   { return str_casestr(h, n); }
#define MT_STRPBRK(soname, fnname) \
   MT_FN_EZU(char*, 20320, soname, fnname, (const char* s, const char* accept)) \
   { return str_pbrk(s, accept); }
#define MT_STRCSPN(soname, fnname) \
   MT_FN_EZU(SizeT, 20330, soname, fnname, (const char* s, const char* reject)) \
   { return str_cspn(s, reject); }
#define MT_STRSPN(soname, fnname) \
   MT_FN_EZU(SizeT, 20340, soname, fnname, (const char* s, const char* accept)) \
   { return str_spn(s, accept); }

MT_STRSTR(VG_Z_LIBC_SONAME, strstr)
MT_STRSTR(VG_Z_LIBC_SONAME, __strstr_sse2)
MT_STRSTR(VG_Z_LIBC_SONAME, __strstr_sse42)

MT_STRCASESTR(VG_Z_LIBC_SONAME, strcasestr)

MT_STRPBRK(VG_Z_LIBC_SONAME, strpbrk)

MT_STRCSPN(VG_Z_LIBC_SONAME, strcspn)
MT_STRCSPN(VG_Z_LIBC_SONAME, __GI_strcspn)

MT_STRSPN(VG_Z_LIBC_SONAME, strspn)

/*------------------------------------------------------------------*/
/*--- Searching memory: memchr, memrchr                          ---*/
/*------------------------------------------------------------------*/

/* Byte by byte (memrchr from the end), up to and including the byte
   found, or all n bytes. */

MT_INLINE void* mem_chr(const void* s, int c, SizeT n)
{
   UChar ch = (UChar)c;
   for (SizeT i = 0; i < n; i++)
      if (ld8((Addr)s + i) == ch) return (void*)((Addr)s + i);
   return NULL;
}

MT_INLINE void* mem_rchr(const void* s, int c, SizeT n)
{
   UChar ch = (UChar)c;
   for (SizeT i = n; i > 0; i--)
      if (ld8((Addr)s + i - 1) == ch) return (void*)((Addr)s + i - 1);
   return NULL;
}

#define MT_MEMCHR(soname, fnname) \
   MT_FN_EZU(void*, 20170, soname, fnname, (const void* s, int c, SizeT n)) \
   { return mem_chr(s, c, n); }
#define MT_MEMRCHR(soname, fnname) \
   MT_FN_EZU(void*, 20360, soname, fnname, (const void* s, int c, SizeT n)) \
   { return mem_rchr(s, c, n); }

MT_MEMCHR(VG_Z_LIBC_SONAME, memchr)
MT_MEMCHR(VG_Z_LIBC_SONAME, __GI_memchr)

MT_MEMRCHR(VG_Z_LIBC_SONAME, memrchr)

/*------------------------------------------------------------------*/
/*--- Bulk copies: memcpy, memmove                               ---*/
/*------------------------------------------------------------------*/

/* memcpy and memmove share one body (old binaries bind memcpy@GLIBC_2.2.5,
   which had memmove's semantics). Every byte of src is read once and every
   byte of dst written once, in the widest of 8/2/1-byte units that both
   addresses' alignment allows, as DHAT's version does:
   - forwards when dst is below src or the ranges do not overlap: single
     bytes until src is 8-aligned (only if src and dst are equally
     aligned mod 8), then 8-byte words (4 per round while 32 bytes remain,
     then one at a time), then 2-byte units if both are even, then bytes;
   - backwards from the end, the same way, when dst overlaps src from
     above;
   - not at all when dst == src.
   A copy of len bytes is recorded for every call, len 0 included. */

MT_INLINE void move_forwards(Addr d, Addr s, SizeT n)
{
   if (((s ^ d) & 7) == 0) {
      while ((s & 7) != 0 && n >= 1) { st8(d, ld8(s)); s++; d++; n--; }
      while (n >= 32) {
         st64(d,      ld64(s));
         st64(d + 8,  ld64(s + 8));
         st64(d + 16, ld64(s + 16));
         st64(d + 24, ld64(s + 24));
         s += 32; d += 32; n -= 32;
      }
      while (n >= 8) { st64(d, ld64(s)); s += 8; d += 8; n -= 8; }
      if (n == 0) return;
   }
   if (((s | d) & 1) == 0)
      while (n >= 2) { st16(d, ld16(s)); s += 2; d += 2; n -= 2; }
   while (n >= 1) { st8(d, ld8(s)); s++; d++; n--; }
}

MT_INLINE void move_backwards(Addr d, Addr s, SizeT n)
{
   d += n;
   s += n;
   if (((s ^ d) & 7) == 0) {
      while ((s & 7) != 0 && n >= 1) { s--; d--; st8(d, ld8(s)); n--; }
      while (n >= 32) {
         st64(d - 8,  ld64(s - 8));
         st64(d - 16, ld64(s - 16));
         st64(d - 24, ld64(s - 24));
         st64(d - 32, ld64(s - 32));
         s -= 32; d -= 32; n -= 32;
      }
      while (n >= 8) { s -= 8; d -= 8; st64(d, ld64(s)); n -= 8; }
      if (n == 0) return;
   }
   if (((s | d) & 1) == 0)
      while (n >= 2) { s -= 2; d -= 2; st16(d, ld16(s)); n -= 2; }
   while (n >= 1) { s--; d--; st8(d, ld8(s)); n--; }
}

MT_INLINE void mem_move(void* dst, const void* src, SizeT len)
{
   Addr d = (Addr)dst, s = (Addr)src;
   if (len == 0) return;
   if (d < s || !ranges_overlap(d, len, s, len))
      move_forwards(d, s, len);
   else if (d > s)
      move_backwards(d, s, len);
}

#define MT_MEMCPY(tag, soname, fnname) \
   MT_FN_EZZ(void*, tag, soname, fnname, (void* dst, const void* src, SizeT len)) \
   { \
      MT_RECORD_COPY(len); \
      mem_move(dst, src, len); \
      return dst; \
   }

/* Tag 20180: memcpy proper; 20181: memmove (wins if both bind one symbol). */
MT_MEMCPY(20180, VG_Z_LIBC_SONAME, memcpyZAZAGLIBCZu2Zd14)  /* memcpy@@GLIBC_2.14 */
MT_MEMCPY(20180, VG_Z_LIBC_SONAME, memcpy)
MT_MEMCPY(20180, VG_Z_LIBC_SONAME, __GI_memcpy)
MT_MEMCPY(20180, VG_Z_LIBC_SONAME, __memcpy_sse2)
MT_MEMCPY(20180, VG_Z_LIBC_SONAME, __memcpy_avx_unaligned_erms)
MT_MEMCPY(20180, VG_Z_LD_SO_1,     memcpy)
MT_MEMCPY(20180, VG_Z_LD64_SO_1,   memcpy)
MT_MEMCPY(20180, NONE,             ZuintelZufastZumemcpy)   /* _intel_fast_memcpy, any object */

MT_MEMCPY(20181, VG_Z_LIBC_SONAME, memcpyZAGLIBCZu2Zd2Zd5)  /* memcpy@GLIBC_2.2.5 */
MT_MEMCPY(20181, VG_Z_LIBC_SONAME, memmove)
MT_MEMCPY(20181, VG_Z_LIBC_SONAME, __GI_memmove)
MT_MEMCPY(20181, VG_Z_LD64_SO_1,   memmove)

/*------------------------------------------------------------------*/
/*--- Byte-wise copies: bcopy, mempcpy, __memmove_chk,           ---*/
/*--- __memcpy_chk                                               ---*/
/*------------------------------------------------------------------*/

/* These copy one byte at a time: upwards if dst is below src, downwards
   if above, nothing if equal. Each records a copy of n bytes: bcopy,
   mempcpy and __memmove_chk on every call (__memmove_chk even before it
   finds the destination too small), __memcpy_chk only once the size check
   has passed. */

MT_INLINE void copy_bytes(Addr d, Addr s, SizeT n)
{
   if (d < s) {
      for (SizeT i = 0; i < n; i++) st8(d + i, ld8(s + i));
   } else if (d > s) {
      for (SizeT i = n; i > 0; i--) st8(d + i - 1, ld8(s + i - 1));
   }
}

#define MT_BCOPY(soname, fnname) \
   MT_FN_EZU(void, 20230, soname, fnname, (const void* src, void* dst, SizeT n)) \
   { \
      MT_RECORD_COPY(n); \
      copy_bytes((Addr)dst, (Addr)src, n); \
   }
#define MT_MEMPCPY(soname, fnname) \
   MT_FN_EZU(void*, 20290, soname, fnname, (void* dst, const void* src, SizeT n)) \
   { \
      MT_RECORD_COPY(n); \
      copy_bytes((Addr)dst, (Addr)src, n); \
      return (char*)dst + n; \
   }
#define MT_MEMMOVE_CHK(soname, fnname) \
   MT_FN_EZU(void*, 20240, soname, fnname, (void* dst, const void* src, SizeT n, SizeT dstlen)) \
   { \
      MT_RECORD_COPY(n); \
      if (dstlen < n) chk_fail("memmove_chk"); \
      copy_bytes((Addr)dst, (Addr)src, n); \
      return dst; \
   }
#define MT_MEMCPY_CHK(soname, fnname) \
   MT_FN_EZU(void*, 20300, soname, fnname, (void* dst, const void* src, SizeT n, SizeT dstlen)) \
   { \
      if (dstlen < n) chk_fail("memcpy_chk"); \
      MT_RECORD_COPY(n); \
      copy_bytes((Addr)dst, (Addr)src, n); \
      return dst; \
   }

MT_BCOPY(VG_Z_LIBC_SONAME, bcopy)

MT_MEMPCPY(VG_Z_LIBC_SONAME,          mempcpy)
MT_MEMPCPY(VG_Z_LIBC_SONAME,          __GI_mempcpy)
MT_MEMPCPY(VG_Z_LD_SO_1,              mempcpy)
MT_MEMPCPY(VG_Z_LD_LINUX_SO_3,        mempcpy)
MT_MEMPCPY(VG_Z_LD_LINUX_X86_64_SO_2, mempcpy)

MT_MEMMOVE_CHK(VG_Z_LIBC_SONAME, __memmove_chk)
MT_MEMCPY_CHK(VG_Z_LIBC_SONAME, __memcpy_chk)

/*------------------------------------------------------------------*/
/*--- Copying up to a byte: memccpy (3.23+)                      ---*/
/*------------------------------------------------------------------*/

/* Upwards, a byte at a time: each byte is read, written, then compared
   with c. Found: returns the address after its copy in dst and records a
   copy of the bytes copied, c included (3.23's DHAT recorded the bytes it
   had not reached). Not found: returns NULL and records n bytes, nothing
   when n == 0. */

#if MT_VG_DHAT_STRMEM_323

#if MT_VG_DHAT_STRMEM_324
#define MT_MEMCCPY_FOUND(copied, n) (copied)
#else
#define MT_MEMCCPY_FOUND(copied, n) ((n) - (copied))
#endif

#define MT_MEMCCPY(soname, fnname) \
   MT_FN_EZU(void*, 20490, soname, fnname, (void* dst, const void* src, int c, SizeT n)) \
   { \
      Addr d = (Addr)dst, s = (Addr)src; \
      UChar x = (UChar)c; \
      for (SizeT i = 0; i < n; i++) { \
         UChar b = ld8(s + i); \
         st8(d + i, b); \
         if (b == x) { \
            MT_RECORD_COPY(MT_MEMCCPY_FOUND(i + 1, n)); \
            return (void*)(d + i + 1); \
         } \
      } \
      if (n != 0) MT_RECORD_COPY(n); \
      return NULL; \
   }

MT_MEMCCPY(VG_Z_LIBC_SONAME, memccpy)

#endif

/*------------------------------------------------------------------*/
/*--- Comparing memory: memcmp, bcmp                             ---*/
/*------------------------------------------------------------------*/

/* When both addresses are 8-aligned, equal 8-byte words are skipped first
   (s2's word, then s1's). The rest, starting with the first differing
   word if there is one (so its bytes are read twice, as in DHAT's
   version), is compared a byte of each at a time; the result is the
   difference of the first differing bytes. */

MT_INLINE int mem_cmp(const void* s1, const void* s2, SizeT n)
{
   Addr a = (Addr)s1, b = (Addr)s2;
   if (((a | b) & 7) == 0) {
      while (n >= 8) {
         ULong wb = ld64(b);
         ULong wa = ld64(a);
         if (wa != wb) break;
         a += 8; b += 8; n -= 8;
      }
   }
   for (; n != 0; n--, a++, b++) {
      int diff = (int)ld8(a) - (int)ld8(b);
      if (diff != 0) return diff;
   }
   return 0;
}

#define MT_MEMCMP(soname, fnname) \
   MT_FN_EZU(int, 20190, soname, fnname, (const void* s1, const void* s2, SizeT n)) \
   { return mem_cmp(s1, s2, n); }

MT_MEMCMP(VG_Z_LIBC_SONAME, memcmp)
MT_MEMCMP(VG_Z_LIBC_SONAME, __GI_memcmp)
MT_MEMCMP(VG_Z_LIBC_SONAME, __memcmp_sse2)
MT_MEMCMP(VG_Z_LIBC_SONAME, __memcmp_sse4_1)
MT_MEMCMP(VG_Z_LIBC_SONAME, bcmp)
MT_MEMCMP(VG_Z_LD_SO_1,     bcmp)

/*------------------------------------------------------------------*/
/*--- Filling memory: memset                                     ---*/
/*------------------------------------------------------------------*/

/* Each byte written once: single bytes up to an 8-byte boundary, then
   32 bytes per round as two 16-byte stores (gcc's vectorisation of
   DHAT's four 8-byte stores), then 8-byte words, then bytes. */

MT_INLINE void* mem_set(void* s, int c, SizeT n)
{
   Addr a = (Addr)s;
   UChar b = (UChar)c;
   ULong w = (ULong)b * 0x0101010101010101ULL;
   MtV128 v = { w, w };
   while ((a & 7) != 0 && n >= 1) { st8(a, b); a++; n--; }
   while (n >= 32) { st128(a, v); st128(a + 16, v); a += 32; n -= 32; }
   while (n >= 8) { st64(a, w); a += 8; n -= 8; }
   while (n >= 1) { st8(a, b); a++; n--; }
   return s;
}

#define MT_MEMSET(soname, fnname) \
   MT_FN_EZZ(void*, 20210, soname, fnname, (void* s, int c, SizeT n)) \
   { return mem_set(s, c, n); }

MT_MEMSET(VG_Z_LIBC_SONAME, memset)

/*------------------------------------------------------------------*/
/*--- Wide strings: wcslen, wcsnlen, wcscmp, wcsncmp, wcscpy,     ---*/
/*--- wcschr, wcsrchr, wmemchr                                   ---*/
/*------------------------------------------------------------------*/

/* glibc's wchar_t is a signed 32-bit int; each character is one 4-byte
   access. The rules are those of the byte versions above (wcscmp and
   wcsncmp compare signed; in wcsncmp, as in DHAT's version, the string
   that ends first is the lower one even if the other goes on with a
   negative value). wcscpy records a copy of 4 bytes per character, the
   terminating L'\0' included. */

MT_INLINE SizeT wcs_len(const Int* s)
{
   SizeT i = 0;
   while (ld32((Addr)(s + i)) != 0) i++;
   return i;
}

MT_INLINE SizeT wcs_nlen(const Int* s, SizeT n)
{
   SizeT i = 0;
   while (i < n && ld32((Addr)(s + i)) != 0) i++;
   return i;
}

MT_INLINE int wcs_cmp(const Int* s1, const Int* s2)
{
   Int c1, c2;
   for (SizeT i = 0;; i++) {
      c1 = ld32((Addr)(s1 + i));
      c2 = ld32((Addr)(s2 + i));
      if (c1 != c2 || c1 == 0) break;
   }
   return c1 < c2 ? -1 : c1 > c2 ? 1 : 0;
}

MT_INLINE int wcs_ncmp(const Int* s1, const Int* s2, SizeT n)
{
   for (SizeT i = 0; i < n; i++) {
      Int c1 = ld32((Addr)(s1 + i)), c2 = ld32((Addr)(s2 + i));
      if (c1 == 0) return c2 == 0 ? 0 : -1;
      if (c2 == 0) return 1;
      if (c1 < c2) return -1;
      if (c1 > c2) return 1;
   }
   return 0;
}

/* Returns the number of characters copied, L'\0' included. */
MT_INLINE SizeT wcs_copy(Int* dst, const Int* src)
{
   SizeT i = 0;
   for (;; i++) {
      Int c = ld32((Addr)(src + i));
      if (c == 0) break;
      st32((Addr)(dst + i), c);
   }
   st32((Addr)(dst + i), 0);
   return i + 1;
}

MT_INLINE Int* wcs_chr(const Int* s, Int c)
{
   for (Addr p = (Addr)s;; p += 4) {
      Int x = ld32(p);
      if (x == c) return (Int*)p;
      if (x == 0) return NULL;
   }
}

MT_INLINE Int* wcs_rchr(const Int* s, Int c)
{
   Addr last = 0;
   for (Addr p = (Addr)s;; p += 4) {
      Int x = ld32(p);
      if (x == c) last = p;
      if (x == 0) return (Int*)last;
   }
}

MT_INLINE Int* wmem_chr(const Int* s, Int c, SizeT n)
{
   for (SizeT i = 0; i < n; i++)
      if (ld32((Addr)(s + i)) == c) return (Int*)(s + i);
   return NULL;
}

#define MT_WCSLEN(soname, fnname) \
   MT_FN_EZU(SizeT, 20370, soname, fnname, (const Int* s)) \
   { return wcs_len(s); }
#define MT_WCSNLEN(soname, fnname) \
   MT_FN_EZU(SizeT, 20440, soname, fnname, (const Int* s, SizeT n)) \
   { return wcs_nlen(s, n); }
#define MT_WCSCMP(soname, fnname) \
   MT_FN_EZU(int, 20380, soname, fnname, (const Int* s1, const Int* s2)) \
   { return wcs_cmp(s1, s2); }
#define MT_WCSNCMP(soname, fnname) \
   MT_FN_EZU(int, 20450, soname, fnname, (const Int* s1, const Int* s2, SizeT n)) \
   { return wcs_ncmp(s1, s2, n); }
#define MT_WCSCPY(soname, fnname) \
   MT_FN_EZU(Int*, 20390, soname, fnname, (Int* dst, const Int* src)) \
   { \
      SizeT chars = wcs_copy(dst, src); \
      MT_RECORD_COPY(chars * 4); \
      return dst; \
   }
#define MT_WCSCHR(soname, fnname) \
   MT_FN_EZU(Int*, 20400, soname, fnname, (const Int* s, Int c)) \
   { return wcs_chr(s, c); }
#define MT_WCSRCHR(soname, fnname) \
   MT_FN_EZU(Int*, 20410, soname, fnname, (const Int* s, Int c)) \
   { return wcs_rchr(s, c); }
#define MT_WMEMCHR(soname, fnname) \
   MT_FN_EZU(Int*, 20430, soname, fnname, (const Int* s, Int c, SizeT n)) \
   { return wmem_chr(s, c, n); }

MT_WCSLEN(VG_Z_LIBC_SONAME, wcslen)
MT_WCSNLEN(VG_Z_LIBC_SONAME, wcsnlen)
MT_WCSNLEN(VG_Z_LIBC_SONAME, __GI_wcsnlen)
MT_WCSCMP(VG_Z_LIBC_SONAME, wcscmp)
MT_WCSNCMP(VG_Z_LIBC_SONAME, wcsncmp)
MT_WCSCPY(VG_Z_LIBC_SONAME, wcscpy)
MT_WCSCHR(VG_Z_LIBC_SONAME, wcschr)
MT_WCSRCHR(VG_Z_LIBC_SONAME, wcsrchr)
MT_WMEMCHR(VG_Z_LIBC_SONAME, wmemchr)
MT_WMEMCHR(VG_Z_LIBC_SONAME, __GI_wmemchr)

/*------------------------------------------------------------------*/
/*--- Newer wide strings: wmemcmp (3.21+), wcsncpy (3.22+),      ---*/
/*--- wcpncpy (3.23+), __wcscat_avx2 (3.25+)                     ---*/
/*------------------------------------------------------------------*/

/* wmemcmp reads a character of each per step, up to the first pair that
   differs, and compares them signed. wcsncpy and wcpncpy are strncpy and
   stpncpy a character (4 bytes) at a time: they record 4 bytes per
   character read from src, the L'\0' included (n characters if src does
   not end before), then pad dst with L'\0' to n characters; wcpncpy
   returns the address after the last character copied from src. Only
   glibc's AVX2 version of wcscat is replaced, by one that reads dst up
   to its L'\0' and then copies src after it, L'\0' included; it records
   no copy. */

#if MT_VG_DHAT_STRMEM_321

#define MT_WMEMCMP(soname, fnname) \
   MT_FN_EZU(int, 20470, soname, fnname, (const Int* s1, const Int* s2, SizeT n)) \
   { \
      for (SizeT i = 0; i < n; i++) { \
         Int c2 = ld32((Addr)(s2 + i)), c1 = ld32((Addr)(s1 + i)); \
         if (c1 != c2) return c1 > c2 ? 1 : -1; \
      } \
      return 0; \
   }

MT_WMEMCMP(VG_Z_LIBC_SONAME, wmemcmp)

#endif

#if MT_VG_DHAT_STRMEM_322

/* The bounded copy and its padding; returns the characters copied from
   src (m <= n). */
MT_INLINE SizeT wcs_ncopy(Int* dst, const Int* src, SizeT n)
{
   SizeT m = 0;
   for (; m < n; m++) {
      Int c = ld32((Addr)(src + m));
      if (c == 0) break;
      st32((Addr)(dst + m), c);
   }
   MT_RECORD_COPY((m < n ? m + 1 : n) * 4);
   for (SizeT i = m; i < n; i++) st32((Addr)(dst + i), 0);
   return m;
}

#define MT_WCSNCPY(soname, fnname) \
   MT_FN_EZU(Int*, 20480, soname, fnname, (Int* dst, const Int* src, SizeT n)) \
   { \
      wcs_ncopy(dst, src, n); \
      return dst; \
   }

MT_WCSNCPY(VG_Z_LIBC_SONAME, wcsncpy)

#endif

#if MT_VG_DHAT_STRMEM_323

#define MT_WCPNCPY(soname, fnname) \
   MT_FN_EZU(Int*, 20500, soname, fnname, (Int* dst, const Int* src, SizeT n)) \
   { return dst + wcs_ncopy(dst, src, n); }

MT_WCPNCPY(VG_Z_LIBC_SONAME, wcpncpy)

#endif

#if MT_VG_DHAT_STRMEM_325

#define MT_WCSCAT(soname, fnname) \
   MT_FN_EZU(Int*, 20510, soname, fnname, (Int* dst, const Int* src)) \
   { \
      Addr d = (Addr)dst, s = (Addr)src; \
      while (ld32(d) != 0) d += 4; \
      for (;; s += 4, d += 4) { \
         Int c = ld32(s); \
         if (c == 0) break; \
         st32(d, c); \
      } \
      st32(d, 0); \
      return dst; \
   }

MT_WCSCAT(VG_Z_LIBC_SONAME, __wcscat_avx2)

#endif

/*------------------------------------------------------------------*/
/*--- Environment: putenv, setenv, unsetenv (wrapped)            ---*/
/*------------------------------------------------------------------*/

/* Valgrind's shared replacements wrap these three so that Memcheck
   checks the strings passed in: the wrapper walks each string, NUL
   included, then calls the real function. Under DHAT that walk shows up
   as reads (of heap blocks, for strings built at run time), so memtrack
   reads them the same way before calling glibc's own function. */

MT_INLINE void touch_str(const char* s)
{
   if (s == NULL) return;
   for (Addr p = (Addr)s; ld8(p) != 0; p++) {}
}

int VG_WRAP_FUNCTION_ZU(VG_Z_LIBC_SONAME, putenv)(char* string);
int VG_WRAP_FUNCTION_ZU(VG_Z_LIBC_SONAME, putenv)(char* string)
{
   OrigFn fn;
   Word result;
   VALGRIND_GET_ORIG_FN(fn);
   touch_str(string);
   CALL_FN_W_W(result, fn, string);
   return (int)result;
}

int VG_WRAP_FUNCTION_ZU(VG_Z_LIBC_SONAME, unsetenv)(const char* name);
int VG_WRAP_FUNCTION_ZU(VG_Z_LIBC_SONAME, unsetenv)(const char* name)
{
   OrigFn fn;
   Word result;
   VALGRIND_GET_ORIG_FN(fn);
   touch_str(name);
   CALL_FN_W_W(result, fn, name);
   return (int)result;
}

int VG_WRAP_FUNCTION_ZU(VG_Z_LIBC_SONAME, setenv)(const char* name, const char* value,
                                                  int overwrite);
int VG_WRAP_FUNCTION_ZU(VG_Z_LIBC_SONAME, setenv)(const char* name, const char* value,
                                                  int overwrite)
{
   OrigFn fn;
   Word result;
   VALGRIND_GET_ORIG_FN(fn);
   touch_str(name);
   touch_str(value);
   CALL_FN_W_WWW(result, fn, name, value, overwrite);
   return (int)result;
}
