// A #[global_allocator] of the program's own that forwards to the system
// allocator (and counts): memtrack sees the blocks at malloc, as DHAT does.
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// std::hint::black_box is stable from Rust 1.66 only: a volatile read
/// keeps the optimiser from removing the value's allocation.
fn black_box<T>(x: T) -> T {
    // SAFETY: reads x's bytes into a new value and forgets the old one: a move.
    unsafe {
        let y = std::ptr::read_volatile(&x);
        std::mem::forget(x);
        y
    }
}

struct Counting;
static CALLS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        CALLS.fetch_add(1, Ordering::Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        CALLS.fetch_add(1, Ordering::Relaxed);
        System.realloc(p, l, n)
    }
}

#[global_allocator]
static A: Counting = Counting;

fn main() {
    let mut v = Vec::new();
    for i in 0..1000u32 {
        v.push(i); // grows by realloc
    }
    let b = black_box(Box::new([0u8; 4096]));
    #[repr(align(64))]
    struct Aligned([u8; 64]);
    let a = black_box(Box::new(Aligned([1; 64]))); // posix_memalign
    let s: String = black_box(v.iter().map(|x| x.to_string()).collect());
    println!("{} {} {} {}", s.len(), b.len(), a.0[0], CALLS.load(Ordering::Relaxed) > 0);
}
