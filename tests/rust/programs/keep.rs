// What a correct Rust program still holds when it exits, for the shipped
// suppressions (scripts/memtrack_lib/rust.supp): a worker thread that is
// still running (parked forever: its handle, packet, start closure,
// thread-local values and glibc's thread-local storage vector), a HashMap
// in a thread-local and one in a static (hashbrown points into the middle
// of its table; the static one holds no heap data of its own, whose blocks
// would be possibly lost through the table). Nothing is lost; memcheck's
// default would report three blocks possibly lost.
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

// A flag, not a channel: a receiver that blocks allocates a wake-up token,
// or not, as the threads happen to interleave.
static READY: AtomicBool = AtomicBool::new(false);

thread_local! {
    static CACHE: RefCell<HashMap<u32, String>> = RefCell::new(HashMap::new());
}

static mut SQUARES: Option<HashMap<usize, usize>> = None;

fn main() {
    CACHE.with(|c| c.borrow_mut().insert(1, "one".to_string()));
    std::thread::spawn(|| {
        CACHE.with(|c| c.borrow_mut().insert(2, "two".to_string()));
        READY.store(true, Ordering::SeqCst);
        loop {
            std::thread::park();
        }
    });
    while !READY.load(Ordering::SeqCst) {
        std::thread::yield_now();
    }
    unsafe {
        SQUARES = Some((0..5).map(|i| (i, i * i)).collect());
        println!("{} squares", SQUARES.as_ref().map_or(0, |m| m.len()));
    }
}
