//! Who is calling: the client address of a request. The socket's peer, unless
//! that peer is a proxy listed in `TRUSTED_PROXIES`: then the nearest address in
//! `X-Forwarded-For` that is not itself a trusted proxy. A header from anyone
//! else is ignored, so a client cannot pick the address its limits are counted on.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

use crate::auth::ClientAddress;

/// The client address of a request that came from `peer` with these headers.
pub fn client_address(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpNet]) -> ClientAddress {
    let peer = canonical(peer.ip());
    if !is_trusted(peer, trusted) {
        return ClientAddress(peer);
    }
    // Read right to left: each trusted hop appended the address it saw.
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in forwarded.into_iter().rev() {
        match hop.parse::<IpAddr>().map(canonical) {
            Ok(address) if is_trusted(address, trusted) => continue,
            Ok(address) => return ClientAddress(address),
            // Garbage in the chain: stop believing it at that point.
            Err(_) => break,
        }
    }
    ClientAddress(peer)
}

fn is_trusted(address: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|network| network.contains(&address))
}

/// IPv4 addresses seen through an IPv6 socket (`::ffff:1.2.3.4`) as IPv4.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(address),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_proxy;

    fn headers(forwarded: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", forwarded.parse().unwrap());
        headers
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let proxy: SocketAddr = "10.0.0.7:5000".parse().unwrap();
        let stranger: SocketAddr = "203.0.113.9:5000".parse().unwrap();
        let trusted = vec![parse_proxy("10.0.0.0/8").unwrap()];
        let chain = headers("198.51.100.1, 192.0.2.44, 10.0.0.3");

        assert_eq!(client_address(proxy, &chain, &trusted).0.to_string(), "192.0.2.44");
        assert_eq!(client_address(stranger, &chain, &trusted).0.to_string(), "203.0.113.9");
        assert_eq!(client_address(proxy, &chain, &[]).0.to_string(), "10.0.0.7");
        assert_eq!(
            client_address(proxy, &headers("nonsense, 10.0.0.2"), &trusted)
                .0
                .to_string(),
            "10.0.0.7"
        );
        assert!(parse_proxy("10.0.0.1").is_ok());
        assert!(parse_proxy("fd00::/8").is_ok());
        assert!(parse_proxy("ten").is_err());
    }
}
