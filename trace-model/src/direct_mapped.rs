//! Slot choice for direct-mapped caches (the payload arena's shared payloads, an
//! importer's symbol lookups): a table of `1 << bits` slots, one key per slot.

/// The slot of `key` among `1 << bits`: Fibonacci hashing, whose multiply carries every
/// bit of the key (addresses a few bytes apart, values that differ in one word) into the
/// top `bits` that pick the slot.
#[inline]
pub fn slot(key: u64, bits: u32) -> usize {
    (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - bits)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearby_keys_spread_over_the_slots() {
        // 1 000 addresses 16 bytes apart in 4 096 slots: random placement fills ~890.
        let mut slots: Vec<usize> = (0..1000u64)
            .map(|n| slot(0xffff_ffff_8100_0000 + 16 * n, 12))
            .collect();
        assert!(slots.iter().all(|&s| s < 4096));
        slots.sort();
        slots.dedup();
        assert!(slots.len() > 850, "{} slots", slots.len());
    }
}
