//! Heap assertions, scoped heap measurements and leak checks for Rust
//! programs and tests run under Valgrind's **memtrack** tool.
//!
//! memtrack records every heap allocation of an unmodified binary (no
//! global allocator to swap, no feature flag, no rebuild) and answers
//! *client requests*: a few instructions that mean nothing to the CPU but
//! that Valgrind recognises. This crate wraps them, with an API modelled on
//! [dhat-rs](https://docs.rs/dhat)'s testing mode so that porting a heap
//! test is mechanical:
//!
//! | dhat-rs | memtrack |
//! |---|---|
//! | `dhat::HeapStats::get()` | [`HeapStats::get()`] (an `Option`: `None` when not under memtrack) |
//! | `dhat::assert!`, `assert_eq!`, `assert_ne!` | [`assert!`], [`assert_eq!`], [`assert_ne!`] |
//! | `dhat::ad_hoc_event(weight)` | [`ad_hoc_event()`] (with `--mode=ad-hoc`) |
//! | `Profiler::builder().testing().build()` | nothing: run the test binary under memtrack (`cargo memtrack test`) |
//! | a fresh profiler per measured scope | [`Measure::start()`] / [`Measure::stats()`] |
//! | — | [`leak_check()`], [`added_leak_check()`], [`dump_profile()`] |
//!
//! Outside memtrack (a plain `cargo test`, another Valgrind tool, a target
//! other than x86-64 Linux) every call is a cheap no-op that reports "not
//! running under memtrack": the getters return `None`, the macros behave as
//! the standard library's. Write tests so that they pass either way:
//!
//! ```
//! let m = memtrack::Measure::start();
//! let v: Vec<u64> = (0..1000).collect();
//! if let Some(s) = m.stats() {
//!     // Only under memtrack: one block of 8,000 bytes.
//!     memtrack::assert_eq!(s.total_blocks, 1);
//!     memtrack::assert_eq!(s.total_bytes, 8000);
//! }
//! # drop(v);
//! ```
//!
//! Run the tests under memtrack with `cargo memtrack test` (the
//! `cargo-memtrack` script installed with memtrack), or by hand:
//! `memtrack --leak-check=full target/debug/deps/mycrate-0123abcd`.
//! docs/rust.md in memtrack's sources is the guide.
//!
//! The crate has no dependencies and needs Rust 1.63 or later.
#![warn(missing_docs)]

mod request;

use core::fmt;

pub use request::running_on_valgrind;

// Request codes: memtrack.h's ('M','T') enum, in order (never renumbered),
// memcheck.h's leak requests ('M','C') and dhat.h's ad-hoc event ('D','H').
const fn tool_base(a: u8, b: u8) -> usize {
    ((a as usize) << 24) | ((b as usize) << 16)
}
const MT_GET_HEAP_STATS: usize = tool_base(b'M', b'T');
const MT_DUMP_PROFILE: usize = MT_GET_HEAP_STATS + 1;
const MT_MEASURE_START: usize = MT_GET_HEAP_STATS + 5;
const MT_MEASURE_READ: usize = MT_GET_HEAP_STATS + 6;
const MT_MEASURE_STOP: usize = MT_GET_HEAP_STATS + 7;
const MC_DO_LEAK_CHECK: usize = tool_base(b'M', b'C') + 6;
const MC_COUNT_LEAKS: usize = tool_base(b'M', b'C') + 7;
const MC_COUNT_LEAK_BLOCKS: usize = tool_base(b'M', b'C') + 12;
const DH_AD_HOC_EVENT: usize = tool_base(b'D', b'H');

/// Whether this program runs under memtrack (not natively, nor under
/// another Valgrind tool).
///
/// The first call asks the tool (one client request); later calls read the
/// cached answer. Natively the first call costs a handful of instructions.
///
/// ```
/// if memtrack::running_under_memtrack() {
///     println!("heap figures are available");
/// }
/// ```
pub fn running_under_memtrack() -> bool {
    use core::sync::atomic::{AtomicU8, Ordering};
    static STATE: AtomicU8 = AtomicU8::new(0); // 0 unknown, 1 no, 2 yes
    match STATE.load(Ordering::Relaxed) {
        1 => false,
        2 => true,
        _ => {
            let yes = running_on_valgrind() > 0 && raw_heap_stats().is_some();
            STATE.store(if yes { 2 } else { 1 }, Ordering::Relaxed);
            yes
        }
    }
}

/// memtrack.h's `MemtrackHeapStats`, laid out as the tool writes it.
#[repr(C)]
#[derive(Default)]
struct RawHeapStats {
    curr_bytes: u64,
    curr_blocks: u64,
    max_bytes: u64,
    max_blocks: u64,
    total_bytes: u64,
    total_blocks: u64,
}

fn raw_heap_stats() -> Option<RawHeapStats> {
    let mut raw = RawHeapStats::default();
    let ok = request::request(
        0,
        [
            MT_GET_HEAP_STATS,
            &mut raw as *mut RawHeapStats as usize,
            core::mem::size_of::<RawHeapStats>(),
            0,
            0,
            0,
        ],
    );
    if ok == 1 {
        Some(raw)
    } else {
        None
    }
}

/// The whole program's heap figures so far, as memtrack counts them
/// (DHAT's rules: a 0-byte request counts 1 byte, each `realloc` one more
/// block). The field names and types are dhat-rs's.
///
/// These are the process's figures: a test harness running tests on
/// several threads mixes them. [`Measure`] gives one scope's.
///
/// ```
/// let before = memtrack::HeapStats::get();
/// let b = Box::new([0u8; 100]);
/// if let (Some(a), Some(z)) = (before, memtrack::HeapStats::get()) {
///     memtrack::assert!(z.total_blocks > a.total_blocks);
///     memtrack::assert!(z.curr_bytes >= a.curr_bytes);
/// }
/// # drop(b);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeapStats {
    /// Blocks allocated since the program started.
    pub total_blocks: u64,
    /// Bytes allocated since the program started.
    pub total_bytes: u64,
    /// Blocks live now.
    pub curr_blocks: usize,
    /// Bytes live now.
    pub curr_bytes: usize,
    /// Blocks live at the peak of live bytes so far (t-gmax).
    pub max_blocks: usize,
    /// Bytes live at the peak so far (t-gmax).
    pub max_bytes: usize,
}

impl HeapStats {
    /// The figures now, or `None` when not running under memtrack.
    ///
    /// ```
    /// match memtrack::HeapStats::get() {
    ///     Some(s) => memtrack::assert!(s.total_bytes >= s.curr_bytes as u64),
    ///     None => std::assert!(!memtrack::running_under_memtrack()),
    /// }
    /// ```
    pub fn get() -> Option<HeapStats> {
        if running_on_valgrind() == 0 {
            return None;
        }
        raw_heap_stats().map(|r| HeapStats {
            total_blocks: r.total_blocks,
            total_bytes: r.total_bytes,
            curr_blocks: r.curr_blocks as usize,
            curr_bytes: r.curr_bytes as usize,
            max_blocks: r.max_blocks as usize,
            max_bytes: r.max_bytes as usize,
        })
    }
}

/// memtrack.h's `MemtrackMeasure`.
#[repr(C)]
#[derive(Default)]
struct RawMeasure {
    curr_bytes: i64,
    curr_blocks: i64,
    max_bytes: u64,
    max_blocks: u64,
    total_bytes: u64,
    total_blocks: u64,
}

/// A scoped heap measurement: what the heap did between
/// [`Measure::start()`] and [`Measure::stats()`], with the scope's own peak,
/// which dhat-rs can only give with a fresh profiler.
///
/// [`Measure::start()`] counts the heap calls of the calling thread only,
/// so tests that `cargo test` runs on several threads at once
/// (`--test-threads` above 1) keep their figures apart; a scope whose work
/// runs on threads of its own uses [`Measure::start_all_threads()`], which
/// counts every thread's calls (run such tests with `--test-threads 1`, or
/// other tests running meanwhile count too). A block freed by the measured
/// thread counts against it, whoever allocated it.
///
/// Dropping the `Measure` closes it. memtrack keeps at most 64 open at
/// once; beyond that `start` gives a `Measure` whose `stats` is `None`.
///
/// ```
/// let m = memtrack::Measure::start();
/// let mut v = Vec::new();
/// for i in 0..100u32 {
///     v.push(i);
/// }
/// drop(v);
/// if let Some(s) = m.stats() {
///     memtrack::assert_eq!(s.curr_bytes, 0); // all freed again
///     memtrack::assert!(s.max_bytes >= 400);  // but 100 u32s were live at once
/// }
/// ```
#[derive(Debug)]
pub struct Measure {
    handle: usize,
}

/// What a [`Measure`] saw since it started.
///
/// ```
/// let m = memtrack::Measure::start();
/// let s = String::from("hello");
/// if let Some(st) = m.stats() {
///     memtrack::assert_eq!(st.total_blocks, 1);
///     memtrack::assert_eq!(st.curr_bytes, 5);
/// }
/// # drop(s);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MeasureStats {
    /// Blocks allocated inside the scope (a `realloc` counts one more).
    pub total_blocks: u64,
    /// Bytes allocated inside the scope.
    pub total_bytes: u64,
    /// Net change of live blocks since the start (negative when the scope
    /// freed more blocks than it allocated).
    pub curr_blocks: i64,
    /// Net change of live bytes since the start.
    pub curr_bytes: i64,
    /// Net growth in blocks at the scope's peak.
    pub max_blocks: u64,
    /// The scope's peak: the highest net growth of live bytes above where
    /// they stood at the start (0 if they never rose).
    pub max_bytes: u64,
}

impl Measure {
    /// Starts measuring the calling thread's heap calls.
    ///
    /// ```
    /// let m = memtrack::Measure::start();
    /// let v = vec![1u8; 64];
    /// if let Some(s) = m.stats() {
    ///     memtrack::assert_eq!(s.max_bytes, 64);
    /// }
    /// # drop(v);
    /// ```
    pub fn start() -> Measure {
        Measure::open(false)
    }

    /// Starts measuring every thread's heap calls.
    ///
    /// ```
    /// let m = memtrack::Measure::start_all_threads();
    /// std::thread::spawn(|| drop(vec![0u8; 1000])).join().unwrap();
    /// if let Some(s) = m.stats() {
    ///     memtrack::assert!(s.total_bytes >= 1000);
    /// }
    /// ```
    pub fn start_all_threads() -> Measure {
        Measure::open(true)
    }

    fn open(all_threads: bool) -> Measure {
        let handle = if running_on_valgrind() > 0 {
            request::request(0, [MT_MEASURE_START, all_threads as usize, 0, 0, 0, 0])
        } else {
            0
        };
        Measure { handle }
    }

    /// The figures since the start, or `None` when not running under
    /// memtrack (or when 64 measurements were open already at the start).
    ///
    /// ```
    /// let m = memtrack::Measure::start();
    /// if let Some(s) = m.stats() {
    ///     memtrack::assert_eq!(s.total_blocks, 0);
    /// }
    /// ```
    pub fn stats(&self) -> Option<MeasureStats> {
        if self.handle == 0 {
            return None;
        }
        let mut raw = RawMeasure::default();
        let ok = request::request(
            0,
            [
                MT_MEASURE_READ,
                self.handle,
                &mut raw as *mut RawMeasure as usize,
                core::mem::size_of::<RawMeasure>(),
                0,
                0,
            ],
        );
        if ok != 1 {
            return None;
        }
        Some(MeasureStats {
            total_blocks: raw.total_blocks,
            total_bytes: raw.total_bytes,
            curr_blocks: raw.curr_blocks,
            curr_bytes: raw.curr_bytes,
            max_blocks: raw.max_blocks,
            max_bytes: raw.max_bytes,
        })
    }
}

impl Drop for Measure {
    fn drop(&mut self) {
        if self.handle != 0 {
            request::request(0, [MT_MEASURE_STOP, self.handle, 0, 0, 0, 0]);
        }
    }
}

/// Counts one ad-hoc event of `weight` at the caller's stack, as dhat-rs's
/// `ad_hoc_event` and DHAT's `DHAT_AD_HOC_EVENT` do. Events are recorded
/// when memtrack (or DHAT) runs with `--mode=ad-hoc`, and ignored in the
/// other modes and natively.
///
/// ```
/// for n in [3usize, 5, 8] {
///     memtrack::ad_hoc_event(n); // the profile sums the weights per call stack
/// }
/// ```
pub fn ad_hoc_event(weight: usize) {
    if running_on_valgrind() > 0 {
        request::request(0, [DH_AD_HOC_EVENT, weight, 0, 0, 0, 0]);
    }
}

/// Writes a DHAT-format profile of the run so far to `path` (`%p` becomes
/// the process id, `%q{VAR}` an environment variable, as in
/// `--dhat-out-file`); `true` if it was written. Natively it does nothing
/// and returns `false`. The path is passed without allocating, so the call
/// does not change the figures it writes (paths up to 4,095 bytes).
///
/// ```
/// let dir = std::env::temp_dir().join("memtrack-doc-%p.json");
/// if memtrack::dump_profile(&dir) {
///     println!("profile written");
/// }
/// ```
pub fn dump_profile<P: AsRef<std::path::Path>>(path: P) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        dump_profile_bytes(path.as_ref().as_os_str().as_bytes())
    }
    #[cfg(not(unix))]
    {
        match path.as_ref().to_str() {
            Some(s) => dump_profile_bytes(s.as_bytes()),
            None => false,
        }
    }
}

fn dump_profile_bytes(path: &[u8]) -> bool {
    if running_on_valgrind() == 0 {
        return false;
    }
    let mut buf = [0u8; 4096];
    if path.is_empty() || path.len() >= buf.len() || path.contains(&0) {
        return false;
    }
    buf[..path.len()].copy_from_slice(path);
    request::request(0, [MT_DUMP_PROFILE, buf.as_ptr() as usize, 0, 0, 0, 0]) == 1
}

/// What memcheck's `VALGRIND_COUNT_LEAKS` and `VALGRIND_COUNT_LEAK_BLOCKS`
/// say after a leak search: bytes and blocks `leaked` (definitely plus
/// indirectly lost), `dubious` (possibly lost), `reachable` (still
/// reachable) and `suppressed`.
///
/// ```
/// if let Some(c) = memtrack::leak_check() {
///     println!("{} bytes in {} blocks leaked", c.leaked_bytes, c.leaked_blocks);
/// }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LeakCounts {
    /// Bytes definitely or indirectly lost.
    pub leaked_bytes: u64,
    /// Bytes possibly lost.
    pub dubious_bytes: u64,
    /// Bytes still reachable.
    pub reachable_bytes: u64,
    /// Bytes in suppressed loss records.
    pub suppressed_bytes: u64,
    /// Blocks definitely or indirectly lost.
    pub leaked_blocks: u64,
    /// Blocks possibly lost.
    pub dubious_blocks: u64,
    /// Blocks still reachable.
    pub reachable_blocks: u64,
    /// Blocks in suppressed loss records.
    pub suppressed_blocks: u64,
}

fn count_leaks(code: usize) -> Option<[u64; 4]> {
    // A tool that does not answer leaves the words alone: u64::MAX tells.
    let mut v = [u64::MAX; 4];
    let p = v.as_mut_ptr() as usize;
    request::request(0, [code, p, p + 8, p + 16, p + 24, 0]);
    if v.iter().any(|&x| x == u64::MAX) {
        None
    } else {
        Some(v)
    }
}

fn leak_search(delta: usize) -> Option<LeakCounts> {
    if running_on_valgrind() == 0 {
        return None;
    }
    // Full search (as VALGRIND_DO_LEAK_CHECK), the report on the log.
    request::request(0, [MC_DO_LEAK_CHECK, 0, delta, 0, 0, 0]);
    let bytes = count_leaks(MC_COUNT_LEAKS)?;
    let blocks = count_leaks(MC_COUNT_LEAK_BLOCKS)?;
    Some(LeakCounts {
        leaked_bytes: bytes[0],
        dubious_bytes: bytes[1],
        reachable_bytes: bytes[2],
        suppressed_bytes: bytes[3],
        leaked_blocks: blocks[0],
        dubious_blocks: blocks[1],
        reachable_blocks: blocks[2],
        suppressed_blocks: blocks[3],
    })
}

/// Runs a full leak search now (memcheck's `VALGRIND_DO_LEAK_CHECK`: the
/// loss records go to the log) and returns its counts; `None` natively or
/// under a tool that does not answer memcheck's leak requests (memcheck
/// itself answers them too).
///
/// ```
/// let kept = Box::new(7u32); // still reachable from this stack
/// if let Some(c) = memtrack::leak_check() {
///     memtrack::assert!(c.reachable_blocks >= 1);
/// }
/// # drop(kept);
/// ```
pub fn leak_check() -> Option<LeakCounts> {
    leak_search(0)
}

/// Runs a leak search that reports only what increased since the previous
/// search (memcheck's `VALGRIND_DO_ADDED_LEAK_CHECK`) and returns the
/// counts, which are the totals of that search, as memcheck gives them.
///
/// ```
/// let before = memtrack::leak_check();
/// std::mem::forget(vec![0u8; 32]); // lost: nothing points to it
/// if let (Some(a), Some(b)) = (before, memtrack::added_leak_check()) {
///     memtrack::assert!(b.leaked_bytes >= a.leaked_bytes + 32);
/// }
/// ```
pub fn added_leak_check() -> Option<LeakCounts> {
    leak_search(1)
}

/// Called by the assertion macros when an assertion fails: writes the
/// profile so far (under memtrack) and panics with the message and the
/// profile's name. Not for direct use.
#[doc(hidden)]
#[cold]
#[track_caller]
pub fn __failed(msg: fmt::Arguments<'_>) -> ! {
    if !running_under_memtrack() {
        core::panic!("{}", msg);
    }
    let mut name = NameBuf::new();
    name.push_profile_name();
    // The tool expands %p itself; the message names the file it wrote.
    let shown = name.as_str().replace("%p", &std::process::id().to_string());
    if dump_profile_bytes(name.as_bytes()) {
        core::panic!("{}\nmemtrack: the heap profile at the failure is in {}", msg, shown);
    }
    core::panic!("{}\nmemtrack: could not write the heap profile to {}", msg, shown);
}

/// A profile name built without the heap:
/// `$MEMTRACK_ASSERT_DIR/memtrack-assert.<thread name>.%p.json` (the
/// current directory without the variable; libtest names each test's
/// thread after the test).
struct NameBuf {
    buf: [u8; 1024],
    len: usize,
}

impl NameBuf {
    fn new() -> NameBuf {
        NameBuf { buf: [0; 1024], len: 0 }
    }
    fn push(&mut self, s: &[u8]) {
        let n = s.len().min(self.buf.len() - 1 - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s[..n]);
        self.len += n;
    }
    fn push_profile_name(&mut self) {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            if let Some(dir) = std::env::var_os("MEMTRACK_ASSERT_DIR") {
                if !dir.is_empty() {
                    self.push(dir.as_bytes());
                    self.push(b"/");
                }
            }
        }
        self.push(b"memtrack-assert.");
        let t = std::thread::current();
        let tname = t.name().unwrap_or("thread");
        for c in tname.bytes().take(200) {
            let ok = c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.';
            self.push(if ok { core::slice::from_ref(&c) } else { b"_" });
        }
        self.push(b".%p.json");
    }
    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
    fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).unwrap_or("(a name that is not UTF-8)")
    }
}

/// Rust's `assert!`, which under memtrack also writes the heap profile so
/// far when it fails (as dhat-rs's `dhat::assert!` does in testing mode),
/// named in the panic message: `memtrack-assert.<test name>.<pid>.json` in
/// `$MEMTRACK_ASSERT_DIR` (`cargo memtrack` sets it) or the current
/// directory.
///
/// ```
/// let v = vec![1, 2, 3];
/// memtrack::assert!(v.len() == 3);
/// memtrack::assert!(v.len() == 3, "v has {} elements", v.len());
/// ```
///
/// ```should_panic
/// memtrack::assert!(1 + 1 == 3, "arithmetic");
/// ```
#[macro_export]
macro_rules! assert {
    ($cond:expr $(,)?) => {
        if !$cond {
            $crate::__failed(::core::format_args!(
                "assertion failed: {}",
                ::core::stringify!($cond)
            ))
        }
    };
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            $crate::__failed(::core::format_args!($($arg)+))
        }
    };
}

/// Rust's `assert_eq!`, which under memtrack also writes the heap profile
/// so far when it fails (see [`assert!`]).
///
/// ```
/// let s = memtrack::MeasureStats::default();
/// memtrack::assert_eq!(s.total_bytes, 0);
/// memtrack::assert_eq!(s.total_blocks, 0, "no blocks in {:?}", s);
/// ```
///
/// ```should_panic
/// memtrack::assert_eq!(2 + 2, 5);
/// ```
#[macro_export]
macro_rules! assert_eq {
    ($left:expr, $right:expr $(,)?) => {
        match (&$left, &$right) {
            (left, right) => {
                if !(*left == *right) {
                    $crate::__failed(::core::format_args!(
                        "assertion failed: `(left == right)`\n  left: `{:?}`,\n right: `{:?}`",
                        left, right
                    ))
                }
            }
        }
    };
    ($left:expr, $right:expr, $($arg:tt)+) => {
        match (&$left, &$right) {
            (left, right) => {
                if !(*left == *right) {
                    $crate::__failed(::core::format_args!(
                        "assertion failed: `(left == right)`\n  left: `{:?}`,\n right: `{:?}`: {}",
                        left, right, ::core::format_args!($($arg)+)
                    ))
                }
            }
        }
    };
}

/// Rust's `assert_ne!`, which under memtrack also writes the heap profile
/// so far when it fails (see [`assert!`]).
///
/// ```
/// memtrack::assert_ne!(1, 2);
/// memtrack::assert_ne!(1, 2, "one is not two");
/// ```
///
/// ```should_panic
/// memtrack::assert_ne!(3, 3);
/// ```
#[macro_export]
macro_rules! assert_ne {
    ($left:expr, $right:expr $(,)?) => {
        match (&$left, &$right) {
            (left, right) => {
                if *left == *right {
                    $crate::__failed(::core::format_args!(
                        "assertion failed: `(left != right)`\n  left: `{:?}`,\n right: `{:?}`",
                        left, right
                    ))
                }
            }
        }
    };
    ($left:expr, $right:expr, $($arg:tt)+) => {
        match (&$left, &$right) {
            (left, right) => {
                if *left == *right {
                    $crate::__failed(::core::format_args!(
                        "assertion failed: `(left != right)`\n  left: `{:?}`,\n right: `{:?}`: {}",
                        left, right, ::core::format_args!($($arg)+)
                    ))
                }
            }
        }
    };
}
