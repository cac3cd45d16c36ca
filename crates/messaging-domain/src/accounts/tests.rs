#![allow(clippy::unwrap_used)]

use super::*;

#[track_caller]
fn check(name: &str, new_ok: bool) {
    assert!(
        Username::parse(name).is_ok(),
        "{name}: any such name still logs in"
    );
    assert_eq!(Username::parse_new(name).is_ok(), new_ok, "{name}");
}

#[test]
fn a_new_user_name_may_not_be_a_contact_detail() {
    check("alice", true);
    check("bob_smith", true);
    check("j.doe", true);
    check("room-101", true);
    check("5551234567", false);
    check("jdoe.me", false);
    check("www.example.com", false);
}
