// Waits for a signal with some blocks live, one of them lost: SIGINT from
// outside ends it, and every output must still be written.
use std::io::Write;

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

extern "C" {
    fn pause() -> i32;
}

fn main() {
    let live: Vec<String> = (0..10).map(|i| format!("live {}", i)).collect();
    std::mem::forget(black_box(vec![9u8; 333]));
    black_box([0u64; 256]);
    println!("ready");
    std::io::stdout().flush().unwrap();
    loop {
        unsafe {
            pause();
        }
        black_box(&live);
    }
}
