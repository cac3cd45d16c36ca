#![allow(clippy::unwrap_used, clippy::expect_used)]

use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};

use super::{Memory, hash, verify};

#[test]
fn a_hash_made_here_verifies_here_and_with_the_argon2_crate() {
    let mut memory = Memory::default();
    let phc = hash(&mut memory, b"correct horse").unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    assert!(verify(&mut memory, b"correct horse", &phc));
    assert!(!verify(&mut memory, b"correct horsf", &phc));
    Argon2::default()
        .verify_password(b"correct horse", phc.as_str())
        .unwrap();
}

#[test]
fn a_hash_made_by_the_argon2_crate_verifies_here_whatever_its_parameters() {
    let mut memory = Memory::default();
    for params in [
        argon2::Params::default(),
        argon2::Params::new(8, 1, 1, Some(16)).unwrap(),
        argon2::Params::new(32 * 1024, 1, 2, None).unwrap(),
    ] {
        let phc = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password(b"pw")
            .unwrap()
            .to_string();
        assert!(verify(&mut memory, b"pw", &phc), "{phc}");
        assert!(!verify(&mut memory, b"pv", &phc), "{phc}");
    }
}

#[test]
fn an_unreadable_hash_matches_nothing() {
    let mut memory = Memory::default();
    for stored in [
        "",
        "plain",
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA",
        "$md5$x$y",
    ] {
        assert!(!verify(&mut memory, b"", stored), "{stored:?}");
    }
}
