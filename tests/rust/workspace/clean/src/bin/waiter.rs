//! A binary that waits to be interrupted, for tests/test_rust.py's Ctrl-C
//! test of `cargo memtrack run`: it keeps a 4,096-byte buffer, says
//! "ready" and sleeps; Ctrl-C ends it with the buffer still live.

use std::io::Write;

fn main() {
    let keep = vec![7u8; 4096];
    println!("ready {}", keep.len());
    std::io::stdout().flush().unwrap();
    std::thread::sleep(std::time::Duration::from_secs(120));
    println!("not interrupted {}", keep[0]);
}
