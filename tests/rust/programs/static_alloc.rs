// A Rust program whose malloc is a C allocator linked in statically
// (tests/rust/bumpalloc.c), as with jemalloc or mimalloc built with
// unprefixed names: glibc's malloc is never called.

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

fn main() {
    let mut v: Vec<Vec<u8>> = Vec::new();
    for i in 0..100 {
        v.push(black_box(vec![i as u8; 10 + i]));
    }
    v.truncate(10);
    std::mem::forget(black_box(vec![1u32; 64]));
    black_box([0u64; 256]);
    println!("{}", v.iter().map(|x| x.len()).sum::<usize>());
}
