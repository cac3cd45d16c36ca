//! Tests for storage keys: built from ids and random bytes, and parsed back only in their two
//! known forms.

use std::fmt::Debug;

use super::*;

#[track_caller]
fn check<T: PartialEq + Debug>(case: impl Debug, actual: T, expected: T) {
    assert_eq!(actual, expected, "case {case:?}");
}

#[test]
fn storage_keys_name_the_uploader_and_random_bytes_and_parse_back() {
    let key = StorageKey::new(UserId(42), [0xab; 16], FileKind::Pdf);
    check(
        "key",
        key.as_str(),
        "messages/42/abababababababababababababababab.pdf",
    );
    check("parse", StorageKey::parse(key.as_str()), Some(key));
    // System A's keys, which also name the message, stay readable.
    let system_a = "messages/42/150/abababababababababababababababab.pdf";
    check(
        "System A's form",
        StorageKey::parse(system_a).map(|k| k.as_str().to_owned()),
        Some(system_a.to_owned()),
    );
    for bad in [
        "messages/42/150/../../etc/passwd",
        "messages/42/../abababababababababababababababab.pdf",
        "messages/42/150/abababababababababababababababab.html",
        "messages/x/150/abababababababababababababababab.pdf",
        "messages/x/abababababababababababababababab.pdf",
        "/messages/42/150/abababababababababababababababab.pdf",
        "messages/42/150/ABABABABABABABABABABABABABABABAB.pdf",
        "messages/42/abab.pdf",
        "messages/42/150/abababababababababababababababab.pdf/x",
        "messages/42/1/2/abababababababababababababababab.pdf",
        "messages/abababababababababababababababab.pdf",
        "uploads/42/abababababababababababababababab.pdf",
    ] {
        check(bad, StorageKey::parse(bad), None);
    }
}
