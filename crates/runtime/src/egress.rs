//! Which outbound destinations a workflow may reach. Checked on the address actually connected
//! to: host names go through [`FilteringResolver`] (the addresses a name resolves to are
//! filtered before the connector sees them, so a name that rebinds to a private address
//! between a check and the connect cannot slip through), and IP-literal URLs, which skip DNS,
//! are checked by [`EgressPolicy::check_url`] before the request is sent.
//!
//! The default allows everything: a local engine talks to local services. `deny_private`
//! blocks loopback, link-local (cloud metadata endpoints such as 169.254.169.254), private,
//! shared (CGNAT), unique-local, multicast and unspecified ranges; `deny` adds ranges;
//! `allow` punches holes in both (an allowed range always wins).

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
};

/// The code an action fails with when its call was refused.
pub const EGRESS_DENIED: &str = "EgressDenied";

/// Allow and deny rules for outbound destinations.
#[derive(Debug, Clone, Default)]
pub struct EgressPolicy {
    /// Refuse non-public addresses (see the module documentation for the ranges).
    pub deny_private: bool,
    /// Further ranges to refuse.
    pub deny: Vec<Cidr>,
    /// Ranges always allowed, whatever the other rules say.
    pub allow: Vec<Cidr>,
}

/// An address range (`10.0.0.0/8`, `fd00::/8`, or one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

/// Why an address was refused; found in a failed call's error chain.
#[derive(Debug, thiserror::Error)]
#[error("outbound calls to {address} are not allowed by the engine's egress policy")]
pub struct EgressDenied {
    pub address: IpAddr,
}

impl EgressPolicy {
    /// True when no rule can refuse anything (the resolver and checks are then skipped).
    pub fn allows_all(&self) -> bool {
        !self.deny_private && self.deny.is_empty()
    }

    pub fn allows(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        if self.allow.iter().any(|range| range.contains(address)) {
            return true;
        }
        if self.deny.iter().any(|range| range.contains(address)) {
            return false;
        }
        !(self.deny_private && is_private(address))
    }

    /// Checks a URL whose host is an IP literal (those never reach the resolver).
    pub fn check_url(&self, url: &reqwest::Url) -> Result<(), EgressDenied> {
        let host = url.host_str().unwrap_or_default();
        let Ok(address) = host.trim_start_matches('[').trim_end_matches(']').parse() else {
            return Ok(());
        };
        if self.allows(address) {
            Ok(())
        } else {
            Err(EgressDenied { address })
        }
    }
}

impl Cidr {
    /// `a.b.c.d/n`, `x::y/n` or a bare address.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address
            .trim()
            .parse()
            .map_err(|_| format!("'{text}' is not an IP address or CIDR range"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("'{text}': the prefix length must be 0 to {max}"))?,
        };
        Ok(Cidr {
            network: canonical(network),
            prefix,
        })
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, canonical(address)) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                prefix_eq(&net.octets(), &a.octets(), self.prefix.min(32))
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                prefix_eq(&net.octets(), &a.octets(), self.prefix.min(128))
            }
            _ => false,
        }
    }
}

/// A resolver that drops the addresses the policy refuses; a name with none left fails with
/// [`EgressDenied`].
pub struct FilteringResolver {
    pub policy: Arc<EgressPolicy>,
}

impl Resolve for FilteringResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|a| policy.allows(a.ip()))
                .collect();
            match (allowed.is_empty(), resolved.first()) {
                (true, Some(refused)) => Err(Box::new(EgressDenied {
                    address: refused.ip(),
                }) as _),
                _ => Ok(Box::new(allowed.into_iter()) as Addrs),
            }
        })
    }
}

/// IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let full = usize::from(bits / 8);
    if a[..full] != b[..full] {
        return false;
    }
    let rest = bits % 8;
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[full] & mask == b[full] & mask
    }
}

/// Addresses that are not on the public internet.
fn is_private(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => is_private_v6(v6),
    }
}

fn is_private_v4(a: Ipv4Addr) -> bool {
    let [first, second, ..] = a.octets();
    a.is_unspecified()
        || first == 0 // "this network"
        || a.is_loopback()
        || a.is_private()
        || a.is_link_local() // 169.254.0.0/16: cloud metadata endpoints live here
        || (first == 100 && (second & 0xc0) == 64) // 100.64.0.0/10, shared (CGNAT)
        || (first == 192 && second == 0 && a.octets()[2] == 0) // 192.0.0.0/24, protocol assignments
        || (first == 198 && (second & 0xfe) == 18) // 198.18.0.0/15, benchmarking
        || a.is_multicast()
        || first >= 240 // reserved and broadcast
}

fn is_private_v6(a: Ipv6Addr) -> bool {
    let segments = a.segments();
    a.is_unspecified()
        || a.is_loopback()
        || (segments[0] & 0xfe00) == 0xfc00 // fc00::/7, unique local
        || (segments[0] & 0xffc0) == 0xfe80 // fe80::/10, link local
        || (segments[0] & 0xff00) == 0xff00 // multicast
        // NAT64 (64:ff9b::/96) and IPv4-compatible addresses carry an IPv4 address: judge it.
        || (segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] || segments[..6] == [0; 6])
            && is_private_v4(Ipv4Addr::new(
                (segments[6] >> 8) as u8,
                segments[6] as u8,
                (segments[7] >> 8) as u8,
                segments[7] as u8,
            ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn deny_private() -> EgressPolicy {
        EgressPolicy {
            deny_private: true,
            ..Default::default()
        }
    }

    #[test]
    fn default_allows_everything() {
        let policy = EgressPolicy::default();
        assert!(policy.allows_all());
        assert!(policy.allows(ip("127.0.0.1")));
        assert!(policy.allows(ip("169.254.169.254")));
    }

    #[test]
    fn deny_private_refuses_non_public_ranges() {
        let policy = deny_private();
        for refused in [
            "127.0.0.1",
            "127.1.2.3",
            "0.0.0.0",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "fc00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(!policy.allows(ip(refused)), "{refused} should be refused");
        }
        for allowed in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
        ] {
            assert!(policy.allows(ip(allowed)), "{allowed} should be allowed");
        }
    }

    #[test]
    fn allow_wins_over_deny() {
        let policy = EgressPolicy {
            deny_private: true,
            deny: vec![Cidr::parse("8.8.0.0/16").unwrap()],
            allow: vec![Cidr::parse("10.0.5.0/24").unwrap()],
        };
        assert!(policy.allows(ip("10.0.5.7")));
        assert!(!policy.allows(ip("10.0.6.7")));
        assert!(!policy.allows(ip("8.8.8.8")));
        assert!(policy.allows(ip("8.9.8.8")));
    }

    #[test]
    fn cidr_parsing() {
        assert!(
            Cidr::parse("10.0.0.0/8")
                .unwrap()
                .contains(ip("10.255.0.1"))
        );
        assert!(
            Cidr::parse("10.0.0.0/9")
                .unwrap()
                .contains(ip("10.127.0.1"))
        );
        assert!(
            !Cidr::parse("10.0.0.0/9")
                .unwrap()
                .contains(ip("10.128.0.1"))
        );
        assert!(Cidr::parse("1.2.3.4").unwrap().contains(ip("1.2.3.4")));
        assert!(!Cidr::parse("1.2.3.4").unwrap().contains(ip("1.2.3.5")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("9.9.9.9")));
        assert!(!Cidr::parse("0.0.0.0/0").unwrap().contains(ip("::2")));
        assert!(Cidr::parse("fd00::/8").unwrap().contains(ip("fd12::1")));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("example.com").is_err());
    }

    #[test]
    fn ip_literal_urls_are_checked() {
        let policy = deny_private();
        let url = |u: &str| reqwest::Url::parse(u).unwrap();
        assert!(policy.check_url(&url("http://127.0.0.1:8080/x")).is_err());
        assert!(policy.check_url(&url("http://[::1]/x")).is_err());
        assert!(
            policy
                .check_url(&url("http://169.254.169.254/latest/meta-data"))
                .is_err()
        );
        // Names are the resolver's job.
        assert!(policy.check_url(&url("http://localhost/x")).is_ok());
        assert!(policy.check_url(&url("https://8.8.8.8/")).is_ok());
    }
}
