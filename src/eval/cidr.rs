//! IP ranges in CIDR notation (`10.0.0.0/8`; a bare address is a range of one): what the Sigma
//! reader accepts after `|cidr`, KQL lowering in `ipv4_is_in_range`, and the evaluator runs.

use std::net::IpAddr;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    network: u128,
    mask: u128,
    v4: bool,
}

impl Range {
    pub fn parse(text: &str) -> Option<Range> {
        let (address, bits) = match text.trim().split_once('/') {
            // Digits only: `u32`'s parser would also take `+8`, which no CIDR reader does.
            Some((a, b)) if !b.is_empty() && b.bytes().all(|d| d.is_ascii_digit()) => (a, Some(b.parse::<u32>().ok()?)),
            Some(_) => return None,
            None => (text.trim(), None),
        };
        let (value, width, v4) = address_bits(address)?;
        let bits = bits.unwrap_or(width);
        if bits > width {
            return None;
        }
        // The mask keeps the top `bits` of a `width`-bit address.
        let mask = if bits == 0 { 0 } else { (u128::MAX << (128 - bits)) >> (128 - width) };
        Some(Range { network: value & mask, mask, v4 })
    }

    pub fn is_ipv4(&self) -> bool {
        self.v4
    }

    /// Whether `address` lies inside; `None` when it is not an address of the same family.
    pub fn contains(&self, address: &str) -> Option<bool> {
        let (value, _, v4) = address_bits(address)?;
        (v4 == self.v4).then_some(value & self.mask == self.network)
    }
}

/// The address as a number, its width in bits, and whether it is IPv4.
fn address_bits(text: &str) -> Option<(u128, u32, bool)> {
    match text.trim().parse::<IpAddr>().ok()? {
        IpAddr::V4(a) => Some((u128::from(u32::from(a)), 32, true)),
        IpAddr::V6(a) => Some((u128::from(a), 128, false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_ranges() {
        let private = Range::parse("10.0.0.0/8").unwrap();
        assert_eq!(private.contains("10.1.2.3"), Some(true));
        assert_eq!(private.contains("11.0.0.1"), Some(false));
        assert_eq!(private.contains("not an ip"), None);
        assert_eq!(Range::parse("192.168.1.7").unwrap().contains("192.168.1.7"), Some(true));
        assert_eq!(Range::parse("0.0.0.0/0").unwrap().contains("8.8.8.8"), Some(true));
        assert_eq!(Range::parse("10.0.0.0/33"), None);
        for invalid in ["abc", "999.1.1.1/8", "10.0.0.0/+8", "10.0.0.0/", "10.0.0.0/8/8", "fe80::/129", ""] {
            assert_eq!(Range::parse(invalid), None, "{invalid}");
        }
    }

    #[test]
    fn ipv6_ranges_hold_only_ipv6() {
        let range = Range::parse("fe80::/10").unwrap();
        assert_eq!(range.contains("fe80::1"), Some(true));
        assert_eq!(range.contains("10.0.0.1"), None);
    }
}
