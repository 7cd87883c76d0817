// Threads with channels: three producers send vectors through one
// channel, a pipeline thread transforms strings through a second; the
// main thread joins each thread before it receives, so the heap's history
// does not depend on how the threads interleave.
use std::sync::mpsc;
use std::thread;

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
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    // One producer at a time: when several threads live at once, which one
    // ends first (and frees its thread's blocks) is the scheduler's choice,
    // and with it the peak; DHAT and memtrack schedule differently.
    for id in 0..3u8 {
        let tx = tx.clone();
        thread::spawn(move || {
            for i in 0..20 {
                tx.send(vec![id; 16 * (i + 1)]).unwrap();
            }
        })
        .join()
        .unwrap();
    }
    drop(tx);
    let total: usize = rx.iter().map(|v| v.len()).sum();

    let (in_tx, in_rx) = mpsc::channel::<String>();
    let (out_tx, out_rx) = mpsc::channel::<String>();
    for i in 0..10 {
        in_tx.send(format!("item {}", i)).unwrap();
    }
    drop(in_tx);
    let worker = thread::spawn(move || {
        for s in in_rx {
            out_tx.send(black_box(s.to_uppercase())).unwrap();
        }
    });
    worker.join().unwrap();
    let joined: Vec<String> = out_rx.iter().collect();
    println!("{} bytes, {}", total, joined.join(","));
}
