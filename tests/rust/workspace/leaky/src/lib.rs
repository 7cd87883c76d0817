//! Leaky code: a cache that forgets what it hands out.

/// A buffer of n bytes that nobody will free.
pub fn leak_buffer(n: usize) -> &'static mut [u8] {
    Box::leak(vec![0u8; n].into_boxed_slice())
}

#[cfg(test)]
mod tests {
    #[test]
    fn leaks_a_buffer() {
        let b = super::leak_buffer(4321);
        assert_eq!(b.len(), 4321);
    }

    #[test]
    fn forgets_a_vec() {
        std::mem::forget(vec![1u64; 100]);
    }
}
