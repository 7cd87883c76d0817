// Rust's ways to keep or lose heap blocks, for memcheck's verdicts:
// an Rc cycle that nothing else points to (one block definitely lost, the
// other indirectly), Box::leak kept in a static (still reachable) and
// thrown away (definitely lost), mem::forget of a Vec (definitely lost),
// and a Vec kept alive in a static (still reachable).
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicPtr, Ordering};

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

struct Node {
    name: String,
    next: RefCell<Option<Rc<Node>>>,
}

static KEPT: AtomicPtr<[u64; 8]> = AtomicPtr::new(std::ptr::null_mut());
static mut TABLE: Vec<u32> = Vec::new();

#[inline(never)]
fn rc_cycle() {
    let a = Rc::new(Node { name: "a".repeat(40), next: RefCell::new(None) });
    let b = Rc::new(Node { name: "b".repeat(60), next: RefCell::new(Some(a.clone())) });
    *a.next.borrow_mut() = Some(b.clone());
    black_box((&a.name, &b.name));
}

#[inline(never)]
fn box_leak_kept() {
    let r: &'static mut [u64; 8] = Box::leak(Box::new([7u64; 8]));
    KEPT.store(r as *mut _, Ordering::SeqCst);
}

#[inline(never)]
fn box_leak_lost() {
    let r: &'static mut [u8; 100] = Box::leak(Box::new([1u8; 100]));
    black_box(r);
}

#[inline(never)]
fn forget_vec() {
    let v: Vec<u16> = black_box(vec![3u16; 250]);
    std::mem::forget(v);
}

#[inline(never)]
fn kept_in_static() {
    unsafe {
        TABLE = (0..64).collect();
        black_box(&TABLE);
    }
}

fn main() {
    rc_cycle();
    box_leak_kept();
    box_leak_lost();
    forget_vec();
    kept_in_static();
    // Scrub the stack that the calls above used, so that no stale copy of a
    // lost pointer stays where the leak search looks.
    black_box([0u64; 512]);
    // Read the static, or the optimiser drops the store into it.
    println!("done {}", !KEPT.load(Ordering::SeqCst).is_null());
}
