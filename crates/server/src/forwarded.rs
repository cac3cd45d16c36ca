//! Who the client is and which address it reached: the client's IP address, and the scheme and
//! host of this server as the client sees them.
//!
//! Behind a load balancer the peer is the proxy, and the client's address, scheme and host arrive
//! in `Forwarded` (RFC 7239) or `X-Forwarded-For` / `-Proto` / `-Host` headers. Those headers are
//! believed only when the peer is a configured trusted proxy (`MESSAGING_TRUSTED_PROXIES`); from
//! anyone else they are ignored, so a client cannot pick the address its rate limits count against
//! or talk the server into thinking a plain-HTTP request came over TLS. actix-web's own
//! `connection_info()` believes them from anyone, which is why nothing here uses it.

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::web;

use crate::state::AppState;

/// The networks whose peers may speak for the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<(IpAddr, u8)>,
}

/// Why a trusted-proxy setting could not be read.
#[derive(Debug, thiserror::Error)]
#[error("not an IP address or CIDR network: {0:?}")]
pub struct BadNetwork(String);

impl TrustedProxies {
    /// Parses a comma-separated list of IP addresses and CIDR networks (`10.0.0.0/8`,
    /// `192.168.1.7`, `fd00::/8`); empty means no proxy is trusted.
    ///
    /// # Errors
    /// [`BadNetwork`] naming the first entry that is neither.
    pub fn parse(list: &str) -> Result<Self, BadNetwork> {
        let mut networks = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let bad = || BadNetwork(entry.to_owned());
            let (addr, bits) = match entry.split_once('/') {
                Some((addr, bits)) => (addr, Some(bits)),
                None => (entry, None),
            };
            let addr: IpAddr = addr.parse().map_err(|_| bad())?;
            let addr = addr.to_canonical();
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(bits) => bits
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(bad)?,
                None => max,
            };
            networks.push((addr, bits));
        }
        Ok(Self { networks })
    }

    /// Whether `addr` is one of the trusted proxies.
    #[must_use]
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = addr.to_canonical();
        self.networks
            .iter()
            .any(|(network, bits)| match (network, addr) {
                (IpAddr::V4(net), IpAddr::V4(a)) => prefix_eq(
                    u128::from(u32::from(*net)) << 96,
                    u128::from(u32::from(a)) << 96,
                    *bits,
                ),
                (IpAddr::V6(net), IpAddr::V6(a)) => {
                    prefix_eq(u128::from(*net), u128::from(a), *bits)
                }
                _ => false,
            })
    }

    /// Whether any proxy is trusted.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }
}

fn prefix_eq(a: u128, b: u128, bits: u8) -> bool {
    if bits == 0 {
        return true;
    }
    let mask = u128::MAX << (128 - u32::from(bits.min(128)));
    a & mask == b & mask
}

/// What the server knows of a request's client and of the address the client used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestOrigin {
    /// The client's IP address: the peer, or, behind trusted proxies, the nearest address they
    /// forwarded that is not itself a trusted proxy.
    pub client: Option<IpAddr>,
    /// `http` or `https`, as the client reached the service.
    pub scheme: String,
    /// The host (and port) the client addressed.
    pub host: String,
}

impl RequestOrigin {
    /// `scheme://host`, as a browser spells this server's origin.
    #[must_use]
    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme, self.host)
    }
}

/// The request's origin, believing forwarded headers only from trusted proxies.
#[must_use]
pub fn request_origin(req: &HttpRequest) -> RequestOrigin {
    let trusted = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.trusted_proxies.as_ref());
    origin_with(req, trusted.unwrap_or(&EMPTY))
}

static EMPTY: TrustedProxies = TrustedProxies {
    networks: Vec::new(),
};

fn origin_with(req: &HttpRequest, trusted: &TrustedProxies) -> RequestOrigin {
    let peer = req.peer_addr().map(|a| a.ip().to_canonical());
    let own_host = req
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
        .unwrap_or_else(|| "localhost".to_owned());
    let direct = RequestOrigin {
        client: peer,
        // This server speaks plain HTTP; TLS ends at a proxy, if anywhere.
        scheme: "http".to_owned(),
        host: own_host,
    };
    match peer {
        Some(peer) if trusted.contains(peer) => forwarded(req, trusted, direct),
        _ => direct,
    }
}

/// Reads what the trusted proxy in front forwarded: `Forwarded` if present, else `X-Forwarded-*`.
fn forwarded(req: &HttpRequest, trusted: &TrustedProxies, direct: RequestOrigin) -> RequestOrigin {
    let header = |name: &str| -> Vec<String> {
        req.headers()
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect()
    };
    let forwarded = header("forwarded");
    let (hops, proto, host) = if forwarded.is_empty() {
        (
            header("x-forwarded-for"),
            header("x-forwarded-proto").pop(),
            header("x-forwarded-host").pop(),
        )
    } else {
        let elements: Vec<Vec<(String, String)>> =
            forwarded.iter().map(|e| forwarded_pairs(e)).collect();
        let get = |pairs: &[(String, String)], key: &str| {
            pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
        };
        let hops = elements.iter().filter_map(|p| get(p, "for")).collect();
        // The element our proxy appended is the last one.
        let last = elements.last().cloned().unwrap_or_default();
        (hops, get(&last, "proto"), get(&last, "host"))
    };
    // From the right: each trusted proxy names the hop before it; the first address that is not
    // a trusted proxy is the client.
    let mut client = direct.client;
    for hop in hops.iter().rev() {
        match parse_node(hop) {
            Some(addr) => {
                client = Some(addr);
                if !trusted.contains(addr) {
                    break;
                }
            }
            // An obfuscated or unknown node: nothing further left can be believed.
            None => break,
        }
    }
    RequestOrigin {
        client,
        scheme: proto
            .map(|p| p.to_ascii_lowercase())
            .filter(|p| p == "http" || p == "https")
            .unwrap_or(direct.scheme),
        host: host
            .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_graphic()))
            .unwrap_or(direct.host),
    }
}

/// The `key=value` pairs of one `Forwarded` element, keys lower-cased, quotes removed.
fn forwarded_pairs(element: &str) -> Vec<(String, String)> {
    element
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| {
            (
                k.trim().to_ascii_lowercase(),
                v.trim().trim_matches('"').to_owned(),
            )
        })
        .collect()
}

/// An address from `X-Forwarded-For` or a `Forwarded` `for=` node: `1.2.3.4`, `1.2.3.4:5678`,
/// `[2001:db8::1]`, `[2001:db8::1]:443` or `2001:db8::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim();
    if let Ok(addr) = node.parse::<IpAddr>() {
        return Some(addr.to_canonical());
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest
            .split_once(']')?
            .0
            .parse::<IpAddr>()
            .ok()
            .map(|a| a.to_canonical());
    }
    let (host, _port) = node.rsplit_once(':')?;
    host.parse::<IpAddr>().ok().map(|a| a.to_canonical())
}

#[cfg(test)]
mod tests;
