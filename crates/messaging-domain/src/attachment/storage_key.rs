//! Where a file is stored: a key built from the uploader's id, random bytes and the detected type,
//! never from anything the client named.

use super::FileKind;
use crate::user::UserId;

#[cfg(test)]
mod tests;

/// Where a file is stored: `messages/{user}/{32 hex}.{ext}`. Built only from the uploader's id,
/// random bytes and the detected type, never from the client's file name.
///
/// System A's keys also named the message (`messages/{user}/{message}/{32 hex}.{ext}`); they still
/// parse, so its stored files stay readable. New keys leave the message out because the file is
/// stored before its message exists: the upload runs outside the database transaction, and
/// reserving a message id beforehand would give a message sent with a slow upload an id older
/// than messages sent meanwhile (history and thread order follow ids). The 128 random bits are
/// what makes a key unguessable, in both forms.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StorageKey(String);

impl StorageKey {
    /// The key for a file of `kind` uploaded by `uploader`, made unique by `nonce` (16 random
    /// bytes chosen by the caller).
    #[must_use]
    pub fn new(uploader: UserId, nonce: [u8; 16], kind: FileKind) -> Self {
        use std::fmt::Write;
        let mut hex = String::with_capacity(32);
        for byte in nonce {
            let _ = write!(hex, "{byte:02x}");
        }
        Self(format!(
            "messages/{}/{hex}.{}",
            uploader.0,
            kind.extension()
        ))
    }

    /// Checks a key read back from storage or from a signed link has the form [`StorageKey::new`]
    /// makes (or System A's, with the message id), so that it can never name a path outside the
    /// attachments.
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = match raw.split('/').collect::<Vec<_>>().as_slice() {
            ["messages", user, file] => is_digits(user) && is_object_name(file),
            ["messages", user, message, file] => {
                is_digits(user) && is_digits(message) && is_object_name(file)
            }
            _ => false,
        };
        ok.then(|| Self(raw.to_owned()))
    }

    /// The key.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `{32 lowercase hex}.{extension of an allowed type}`.
fn is_object_name(file: &str) -> bool {
    file.split_once('.').is_some_and(|(hex, ext)| {
        hex.len() == 32
            && hex
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            && FileKind::ALL.iter().any(|k| k.extension() == ext)
    })
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}
