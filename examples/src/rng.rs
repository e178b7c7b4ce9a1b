//! A tiny deterministic generator: SplitMix64, seeded from the names of what
//! is being simulated, so the same call in the same run always gets the same
//! latency, token counts and outcome.

/// SplitMix64 (Steele, Lea and Flood, 2014).
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator seeded from `parts` (e.g. agent, step, topic) and a number.
    pub fn seeded(parts: &[&str], n: u64) -> SplitMix64 {
        // FNV-1a over the parts, separated so that ("ab","c") != ("a","bc").
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for p in parts {
            for b in p.bytes().chain([0xff]) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        SplitMix64(h ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        debug_assert!(lo <= hi);
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

#[cfg(test)]
mod tests {
    use super::SplitMix64;

    #[test]
    fn same_seed_same_numbers() {
        let a: Vec<u64> = (0..4).map(|_| SplitMix64::seeded(&["researcher", "fetch"], 3).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let mut r = SplitMix64::seeded(&["a", "bc"], 0);
        let mut s = SplitMix64::seeded(&["ab", "c"], 0);
        assert_ne!(r.next_u64(), s.next_u64());
    }

    #[test]
    fn range_stays_in_bounds() {
        let mut r = SplitMix64::seeded(&["range"], 1);
        for _ in 0..1000 {
            let v = r.range(80, 900);
            assert!((80..=900).contains(&v));
        }
    }
}
