//! A small xorshift64* generator for jitter, discriminators and source
//! ports (keepalived uses `random()`; none of these needs a CSPRNG: RFC 5880
//! §6.8.1 only asks discriminators to be unique, and §6.8.7 jitter random).

use std::hash::{BuildHasher, Hasher};

/// xorshift64* (Vigna): never zero state, 64-bit output.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator with a fixed seed (tests).
    pub fn seeded(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    /// A generator seeded from the process's random hasher keys and the clock.
    pub fn from_entropy() -> Rng {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        Rng::seeded(h.finish())
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// keepalived's `rand_intv(min, max)`: uniform in `[min, max]`.
    pub fn range(&mut self, min: u32, max: u32) -> u32 {
        if max <= min {
            return min;
        }
        let span = u64::from(max - min) + 1;
        min + (((self.next_u64() >> 32) * span) >> 32) as u32
    }

    /// A non-zero discriminator (`bfd_get_random_discr()`).
    pub fn discriminator(&mut self) -> u32 {
        loop {
            let d = (self.next_u64() >> 32) as u32;
            if d != 0 {
                return d;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_stays_in_bounds() {
        let mut r = Rng::seeded(7);
        for _ in 0..10_000 {
            let v = r.range(10, 25);
            assert!((10..=25).contains(&v));
        }
        assert_eq!(r.range(5, 5), 5);
        assert_eq!(r.range(5, 1), 5);
        let _ = r.range(0, u32::MAX); // no overflow at the full range
        assert_ne!(r.discriminator(), 0);
    }
}
