// Panics: "unwind" catches one panic and lets a thread die of another
// (the payloads and the thread's blocks are freed on the way out);
// "abort" panics in a program built with -C panic=abort (SIGABRT, every
// output still written).

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

#[inline(never)]
fn fails(n: usize) -> usize {
    let v: Vec<usize> = black_box((0..n).collect());
    if v.len() > 5 {
        panic!("too long: {}", v.len());
    }
    v.len()
}

fn main() {
    std::panic::set_hook(Box::new(|info| eprintln!("panicked: {}", info)));
    match std::env::args().nth(1).as_deref() {
        Some("unwind") => {
            let r = std::panic::catch_unwind(|| fails(10));
            assert!(r.is_err());
            let t = std::thread::spawn(|| fails(20)).join();
            assert!(t.is_err());
            println!("caught both");
        }
        Some("abort") => {
            let kept = black_box(vec![0u8; 1234]);
            fails(30);
            drop(kept);
        }
        _ => eprintln!("usage: panics unwind|abort"),
    }
}
