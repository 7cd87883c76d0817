//! Valgrind's client-request mechanism: the "magic sequence" of valgrind.h
//! for x86-64 (rotations of rdi by 3, 13, 61 and 51 bits, 128 in all, so rdi
//! is unchanged when the CPU runs them, then `xchg rbx, rbx`), which
//! Valgrind's translator recognises. rax points at six words (the request
//! code and its five arguments); the answer comes back in rdx, which holds
//! the default when no Valgrind answers. Natively the sequence is six
//! register instructions. Elsewhere than x86-64 Linux every request answers
//! its default: memtrack runs on amd64 Linux only.

/// Sends one client request; returns Valgrind's answer, or `default`
/// natively.
#[cfg(all(target_arch = "x86_64", any(target_os = "linux", target_os = "android")))]
#[inline(always)]
pub(crate) fn request(default: usize, args: [usize; 6]) -> usize {
    let result: usize;
    // SAFETY: the instructions change no register the compiler sees (rdi
    // comes back to its value, rbx is swapped with itself); under Valgrind
    // the tool reads the six words and may write memory the arguments
    // name, which "memory" (no `nomem`) covers.
    unsafe {
        core::arch::asm!(
            "rol rdi, 3",
            "rol rdi, 13",
            "rol rdi, 61",
            "rol rdi, 51",
            "xchg rbx, rbx",
            inout("rdx") default => result,
            in("rax") args.as_ptr(),
            options(nostack),
        );
    }
    result
}

#[cfg(not(all(target_arch = "x86_64", any(target_os = "linux", target_os = "android"))))]
#[inline(always)]
pub(crate) fn request(default: usize, _args: [usize; 6]) -> usize {
    default
}

/// valgrind.h's `RUNNING_ON_VALGRIND`: 0 natively, else the number of
/// Valgrinds the program runs under (1 in practice), whatever the tool.
///
/// ```
/// if memtrack::running_on_valgrind() == 0 {
///     std::assert!(!memtrack::running_under_memtrack());
/// }
/// ```
#[inline]
pub fn running_on_valgrind() -> usize {
    const RUNNING_ON_VALGRIND: usize = 0x1001;
    request(0, [RUNNING_ON_VALGRIND, 0, 0, 0, 0, 0])
}
