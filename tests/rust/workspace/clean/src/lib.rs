//! Clean code: nothing leaks; the tests assert heap use with Measure.

/// Words of `text`, upper-cased.
pub fn shout(text: &str) -> Vec<String> {
    text.split_whitespace().map(|w| w.to_uppercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shout_allocates_one_string_per_word_and_the_vec() {
        let m = memtrack::Measure::start();
        let v = shout("one two three");
        if let Some(s) = m.stats() {
            // The Vec grows to 4 Strings of 24 bytes (collect cannot know
            // the count; 4 is RawVec's least capacity), then one String
            // per word of exactly the word's length.
            memtrack::assert_eq!(s.curr_blocks, 4);
            memtrack::assert_eq!(s.curr_bytes, 4 * 24 + 3 + 3 + 5);
        }
        assert_eq!(v, ["ONE", "TWO", "THREE"]);
    }

    #[test]
    fn nothing_left_behind() {
        let m = memtrack::Measure::start();
        drop(shout("a b c d e f"));
        if let Some(s) = m.stats() {
            memtrack::assert_eq!(s.curr_bytes, 0);
            memtrack::assert!(s.max_bytes > 0);
        }
    }
}
