//! Where outgoing requests may go: only to globally reachable addresses, so a URL that someone
//! else chose (a webhook's) cannot reach this server's loopback, its private network, a cloud
//! metadata endpoint or any other special-purpose network (SSRF).
//!
//! The ranges come from the IANA IPv4 and IPv6 Special-Purpose Address Registries
//! (<https://www.iana.org/assignments/iana-ipv4-special-registry/>,
//! <https://www.iana.org/assignments/iana-ipv6-special-registry/>) and the IPv4 and IPv6
//! Address Space Registries (multicast, reserved). Addresses that carry an IPv4 address inside
//! an IPv6 one are judged by the IPv4 address they lead to. Standard Rust's `is_global` is
//! still unstable, and the crates that offer one either lack these unwrappings or bring far
//! more than this table.
//!
//! [`GlobalOnly`] makes a reqwest client connect only to addresses checked here: the address
//! judged is the address connected to, with no second lookup for DNS rebinding to answer
//! differently.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// IPv4 blocks that are not globally reachable: every one of the special-purpose registry
/// (192.0.0.0/24 whole, with the two anycast /32s in it that are global but no webhook receiver
/// uses), multicast, and the reserved 240/4, which holds the limited broadcast 255.255.255.255.
const NOT_GLOBAL_V4: [(Ipv4Addr, u8); 15] = [
    (Ipv4Addr::new(0, 0, 0, 0), 8),       // "this network" (RFC 791)
    (Ipv4Addr::new(10, 0, 0, 0), 8),      // private use (RFC 1918)
    (Ipv4Addr::new(100, 64, 0, 0), 10),   // shared address space, carrier-grade NAT (RFC 6598)
    (Ipv4Addr::new(127, 0, 0, 0), 8),     // loopback (RFC 1122)
    (Ipv4Addr::new(169, 254, 0, 0), 16),  // link-local, cloud metadata (RFC 3927)
    (Ipv4Addr::new(172, 16, 0, 0), 12),   // private use (RFC 1918)
    (Ipv4Addr::new(192, 0, 0, 0), 24),    // IETF protocol assignments (RFC 6890)
    (Ipv4Addr::new(192, 0, 2, 0), 24),    // documentation, TEST-NET-1 (RFC 5737)
    (Ipv4Addr::new(192, 88, 99, 0), 24),  // 6to4 relay anycast, deprecated (RFC 7526)
    (Ipv4Addr::new(192, 168, 0, 0), 16),  // private use (RFC 1918)
    (Ipv4Addr::new(198, 18, 0, 0), 15),   // benchmarking (RFC 2544)
    (Ipv4Addr::new(198, 51, 100, 0), 24), // documentation, TEST-NET-2 (RFC 5737)
    (Ipv4Addr::new(203, 0, 113, 0), 24),  // documentation, TEST-NET-3 (RFC 5737)
    (Ipv4Addr::new(224, 0, 0, 0), 4),     // multicast (RFC 5771)
    (Ipv4Addr::new(240, 0, 0, 0), 4),     // reserved (RFC 1112), and broadcast (RFC 919)
];

/// Blocks inside 2000::/3 that are not globally reachable. Everything outside 2000::/3 is
/// refused as a whole: IANA allocates no global unicast there, and it holds the rest of the
/// special-purpose registry: ::/128, ::1/128, 64:ff9b:1::/48 (local-use NAT64, whose embedding
/// each network chooses, RFC 8215), 100::/64 (discard-only), 5f00::/16 (SRv6 SIDs), fc00::/7
/// (unique local), fe80::/10 (link-local), fec0::/10 (site-local, deprecated), ff00::/8
/// (multicast).
const NOT_GLOBAL_V6: [(Ipv6Addr, u8); 3] = [
    // IETF protocol assignments (RFC 2928), refused whole: Teredo 2001::/32, benchmarking
    // 2001:2::/48, ORCHID 2001:10::/28 and ORCHIDv2 2001:20::/28, and the few anycast, AMT and
    // AS112 blocks in it that are global but no webhook receiver uses.
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23),
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation (RFC 3849)
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20),     // documentation (RFC 9637)
];

/// Whether a request may go to `ip`: it is globally reachable, and so is any IPv4 address it
/// embeds.
pub fn is_global(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_global_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => is_global_v4(v4),
            None => is_global_v6(v6),
        },
    }
}

fn is_global_v4(ip: Ipv4Addr) -> bool {
    let ip = u32::from(ip);
    !NOT_GLOBAL_V4.iter().any(|&(network, length)| {
        let mask = u32::MAX << (32 - u32::from(length));
        ip & mask == u32::from(network)
    })
}

fn is_global_v6(ip: Ipv6Addr) -> bool {
    let ip = u128::from(ip);
    let within = |network: Ipv6Addr, length: u8| {
        let mask = u128::MAX << (128 - u32::from(length));
        ip & mask == u128::from(network)
    };
    within(Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3)
        && !NOT_GLOBAL_V6
            .iter()
            .any(|&(network, length)| within(network, length))
}

/// The IPv4 address a connection to `ip` actually reaches, for the forms that carry one:
/// IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d (deprecated; also covers :: and ::1,
/// which then judge as 0.0.0.0 and 0.0.0.1, both refused), NAT64 64:ff9b::a.b.c.d (RFC 6052)
/// and 6to4 2002:aabb:ccdd::/48 (RFC 3056).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let [s0, s1, s2, s3, s4, s5, s6, s7] = ip.segments();
    let from = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    match (s0, s1, s2, s3, s4, s5) {
        (0, 0, 0, 0, 0, 0xffff) | (0, 0, 0, 0, 0, 0) | (0x64, 0xff9b, 0, 0, 0, 0) => {
            Some(from(s6, s7))
        }
        (0x2002, ..) => Some(from(s1, s2)),
        _ => None,
    }
}

/// Why a host was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// The name has no address (or the lookup failed).
    #[error("url's host does not resolve")]
    Unresolvable,
    /// An address is loopback, private or special-purpose, or embeds one that is.
    #[error("url points at a private or special-purpose address")]
    NotGlobal,
}

/// Resolves `host` (a name, or an IP literal without brackets, which needs no network) with
/// `port`; refused unless it resolves, and to global addresses only.
pub async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, Refused> {
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| Refused::Unresolvable)?
        .collect();
    if addresses.is_empty() {
        return Err(Refused::Unresolvable);
    }
    if !addresses.iter().all(|address| is_global(address.ip())) {
        return Err(Refused::NotGlobal);
    }
    Ok(addresses)
}

/// A reqwest resolver that fails the request when a name resolves to any address that is not
/// global (a single bad one could be the one connected to), and otherwise answers with the
/// addresses it checked. reqwest connects to IP-literal hosts without asking its resolver:
/// check those before sending.
#[derive(Debug)]
pub struct GlobalOnly;

impl Resolve for GlobalOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // Port 0: reqwest puts in the URL's port.
            let addresses = resolve(&host, 0).await?;
            Ok(Box::new(addresses.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global(ip: &str) -> bool {
        is_global(ip.parse().expect("an IP address"))
    }

    #[test]
    fn refuses_every_special_purpose_ipv4_block() {
        for ip in [
            "0.0.0.0",
            "0.255.255.255",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.1",
            "192.0.0.9",
            "192.0.0.170",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.1",
            "203.0.113.1",
            "224.0.0.1",
            "239.255.255.255",
            "240.0.0.1",
            "254.255.255.255",
            "255.255.255.255",
        ] {
            assert!(!global(ip), "{ip} passed as global");
        }
    }

    #[test]
    fn refuses_every_special_purpose_ipv6_block() {
        for ip in [
            "::",
            "::1",
            "64:ff9b:1::1",
            "64:ff9b:1:ffff::808:808",
            "100::1",
            "100::ffff:ffff:ffff:ffff",
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2", // Teredo
            "2001:1::1",
            "2001:2::1",
            "2001:10::1",
            "2001:20::1",
            "2001:1ff:ffff::1",
            "2001:db8::1",
            "2001:db8:ffff::1",
            "3fff::1",
            "3fff:fff:ffff::1",
            "5f00::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "feff::1",
            "ff02::1",
            "ff0e::1",
            // Reserved by the IETF, not special-purpose, and not global either.
            "::1:0:0:0",
            "4000::1",
        ] {
            assert!(!global(ip), "{ip} passed as global");
        }
    }

    #[test]
    fn judges_an_embedded_ipv4_address() {
        for ip in [
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "::169.254.169.254",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "2002:a00:1::1",
            "2002:c0a8:101::",
        ] {
            assert!(!global(ip), "{ip} passed as global");
        }
        for ip in [
            "::ffff:93.184.216.34",
            "::8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(global(ip), "{ip} refused");
        }
    }

    #[test]
    fn accepts_public_addresses() {
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.0",
            "172.32.0.1",
            "192.0.1.1",
            "198.20.0.1",
            "223.255.255.255",
            "2606:4700::1111",
            "2a00:1450::1",
            "2001:200::1",
            "2001:4860:4860::8888",
            "2620:fe::fe",
            "3fff:1000::1",
        ] {
            assert!(global(ip), "{ip} refused");
        }
    }

    #[tokio::test]
    async fn resolves_only_to_global_addresses() {
        assert_eq!(resolve("localhost", 80).await, Err(Refused::NotGlobal));
        assert_eq!(resolve("::1", 80).await, Err(Refused::NotGlobal));
        assert_eq!(
            resolve("93.184.216.34", 443).await,
            Ok(vec!["93.184.216.34:443".parse().expect("an address")])
        );
    }
}
