// Allocation sites in generic functions, trait methods and closures,
// whose symbols differ most between legacy and v0 mangling.

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

trait Store {
    fn keep(&mut self, n: usize);
}

struct Shelf {
    items: Vec<Box<[u8]>>,
}

impl Store for Shelf {
    #[inline(never)]
    fn keep(&mut self, n: usize) {
        self.items.push(vec![0u8; n].into_boxed_slice());
    }
}

#[inline(never)]
fn make_many<T: Clone + Default>(n: usize) -> Vec<T> {
    vec![T::default(); n]
}

fn main() {
    let mut s = Shelf { items: Vec::with_capacity(4) };
    for n in [10, 20, 30] {
        s.keep(n);
    }
    let a: Vec<u64> = black_box(make_many(100));
    let b: Vec<u8> = black_box(make_many(100));
    let lost = black_box((0..3).map(|i| vec![i as u8; 50]).collect::<Vec<_>>());
    std::mem::forget(lost);
    black_box([0u64; 256]);
    println!("{} {} {}", s.items.len(), a.len(), b.len());
}
