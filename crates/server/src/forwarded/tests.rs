#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::test::TestRequest;

use super::*;

fn proxies(list: &str) -> TrustedProxies {
    TrustedProxies::parse(list).unwrap()
}

#[track_caller]
fn check(peer: &str, headers: &[(&str, &str)], trusted: &str, want: (&str, &str, &str)) {
    let mut req = TestRequest::get()
        .uri("/")
        .insert_header(("Host", "internal:8080"))
        .peer_addr(peer.parse().unwrap());
    for (name, value) in headers {
        req = req.append_header((*name, *value));
    }
    let origin = origin_with(&req.to_http_request(), &proxies(trusted));
    let got = (
        origin.client.map(|a| a.to_string()).unwrap_or_default(),
        origin.scheme,
        origin.host,
    );
    assert_eq!(
        (got.0.as_str(), got.1.as_str(), got.2.as_str()),
        want,
        "peer {peer}, {headers:?}, trusting {trusted:?}"
    );
}

#[test]
fn forwarded_headers_from_an_untrusted_peer_are_ignored() {
    let headers = [
        ("X-Forwarded-For", "1.2.3.4"),
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "evil.example"),
        ("Forwarded", "for=5.6.7.8;proto=https;host=evil.example"),
    ];
    check(
        "9.9.9.9:5000",
        &headers,
        "",
        ("9.9.9.9", "http", "internal:8080"),
    );
    check(
        "9.9.9.9:5000",
        &headers,
        "10.0.0.0/8",
        ("9.9.9.9", "http", "internal:8080"),
    );
}

#[test]
fn a_trusted_proxy_names_the_client_scheme_and_host() {
    check(
        "10.0.0.5:5000",
        &[
            ("X-Forwarded-For", "203.0.113.9"),
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "chat.example.org"),
        ],
        "10.0.0.0/8",
        ("203.0.113.9", "https", "chat.example.org"),
    );
    check(
        "10.0.0.5:5000",
        &[(
            "Forwarded",
            "for=\"[2001:db8::7]:4711\";proto=https;host=chat.example.org",
        )],
        "10.0.0.0/8",
        ("2001:db8::7", "https", "chat.example.org"),
    );
}

#[test]
fn an_address_the_client_put_in_front_of_the_chain_is_not_believed() {
    // The client sent "X-Forwarded-For: 1.1.1.1"; the proxy appended the client's real address.
    check(
        "10.0.0.5:5000",
        &[("X-Forwarded-For", "1.1.1.1, 198.51.100.4")],
        "10.0.0.5",
        ("198.51.100.4", "http", "internal:8080"),
    );
    // Two trusted proxies in a row: the first untrusted address from the right is the client.
    check(
        "10.0.0.5:5000",
        &[("X-Forwarded-For", "1.1.1.1, 198.51.100.4, 10.0.0.9")],
        "10.0.0.0/8",
        ("198.51.100.4", "http", "internal:8080"),
    );
    check(
        "10.0.0.5:5000",
        &[("Forwarded", "for=1.1.1.1, for=198.51.100.4;proto=https")],
        "10.0.0.0/8",
        ("198.51.100.4", "https", "internal:8080"),
    );
}

#[test]
fn odd_values_fall_back_to_what_the_connection_says() {
    check(
        "10.0.0.5:5000",
        &[
            ("X-Forwarded-For", "unknown"),
            ("X-Forwarded-Proto", "gopher"),
        ],
        "10.0.0.5",
        ("10.0.0.5", "http", "internal:8080"),
    );
    check(
        "10.0.0.5:5000",
        &[],
        "10.0.0.5",
        ("10.0.0.5", "http", "internal:8080"),
    );
}

#[test]
fn trusted_proxy_lists_parse_addresses_and_networks() {
    let list = proxies(" 10.0.0.0/8 , 192.168.1.7,fd00::/8 ");
    for (addr, inside) in [
        ("10.200.3.4", true),
        ("11.0.0.1", false),
        ("192.168.1.7", true),
        ("192.168.1.8", false),
        ("fd12::1", true),
        ("fe80::1", false),
        ("::ffff:10.1.2.3", true),
    ] {
        assert_eq!(list.contains(addr.parse().unwrap()), inside, "{addr}");
    }
    assert!(proxies("").is_empty());
    for bad in ["10.0.0.0/33", "nonsense", "10.0.0/8", "::1/129"] {
        assert!(TrustedProxies::parse(bad).is_err(), "{bad}");
    }
}
