//! A binary of the leaky crate, for `cargo memtrack run`: prints its
//! arguments and leaks one buffer per argument.

fn main() {
    for a in std::env::args().skip(1) {
        let b = leaky::leak_buffer(a.len() * 100);
        println!("{} {}", a, b.len());
    }
}
