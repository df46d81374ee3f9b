//! Log sequence numbers: PostgreSQL's `pg_lsn` (`16/B374D848`) as a `u64` byte position in
//! the WAL, so lag in bytes is a subtraction.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A WAL position in bytes. Displays and parses as PostgreSQL prints it (`X/Y`, hex).
/// Crosses the RPC boundary as its text form (`"0/3000148"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, ts_rs::TS)]
#[ts(type = "string")]
pub struct Lsn(pub u64);

impl Lsn {
    /// Bytes from `other` up to `self`; 0 when `other` is ahead.
    pub fn bytes_after(self, other: Lsn) -> u64 {
        self.0.saturating_sub(other.0)
    }
}

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

impl FromStr for Lsn {
    type Err = String;
    fn from_str(s: &str) -> Result<Lsn, String> {
        let (hi, lo) = s
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("'{s}' is not an LSN (X/Y)"))?;
        let hi = u64::from_str_radix(hi, 16).map_err(|_| format!("'{s}' is not an LSN (X/Y)"))?;
        let lo = u64::from_str_radix(lo, 16).map_err(|_| format!("'{s}' is not an LSN (X/Y)"))?;
        if hi > 0xFFFF_FFFF || lo > 0xFFFF_FFFF {
            return Err(format!("'{s}' is out of range for an LSN"));
        }
        Ok(Lsn((hi << 32) | lo))
    }
}

impl Serialize for Lsn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Lsn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Lsn, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Parses an optional LSN column read as text (`pg_lsn::text`).
pub(crate) fn parse_opt(s: Option<String>) -> Option<Lsn> {
    s.and_then(|s| s.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_subtracts() {
        let a: Lsn = "16/B374D848".parse().expect("lsn");
        assert_eq!(a.0, 0x16_B374_D848);
        assert_eq!(a.to_string(), "16/B374D848");
        let b: Lsn = "16/B374D000".parse().expect("lsn");
        assert_eq!(a.bytes_after(b), 0x848);
        assert_eq!(b.bytes_after(a), 0);
        assert!("nope".parse::<Lsn>().is_err());
        assert!("1/100000000".parse::<Lsn>().is_err());
    }
}
