//! The name a file is shown under: sanitised for display and for a `Content-Disposition` header,
//! with an extension that matches its real type. It never names where the file is stored.

use std::fmt;

use super::{FileKind, MAX_FILE_NAME_BYTES};

#[cfg(test)]
mod tests;

/// A file name safe to show and to put in a `Content-Disposition` header: no directories, no
/// control or shell-special characters, no leading dots, at most [`MAX_FILE_NAME_BYTES`], and an
/// extension that matches the file's real type. It is never used to build a storage key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileName(String);

impl FileName {
    /// Cleans a client's file name for a file of `kind`.
    #[must_use]
    pub fn sanitize(raw: &str, kind: FileKind) -> Self {
        // Only the last path component counts, whichever separator the client's system uses.
        let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
        let cleaned: String = last.chars().map(display_char).collect();
        let cleaned = cleaned
            .trim_start_matches(['.', ' ', '_'])
            .trim_end_matches(['.', ' ']);
        let (stem, ext) = match cleaned.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() => (stem, Some(ext.to_ascii_lowercase())),
            _ => (cleaned, None),
        };
        let stem = if stem.trim().is_empty() {
            "attachment"
        } else {
            stem.trim()
        };
        let ext = match ext {
            Some(ext) if kind.accepted_extensions().contains(&ext.as_str()) => ext,
            _ => kind.extension().to_owned(),
        };
        let room = MAX_FILE_NAME_BYTES - ext.len() - 1;
        let mut cut = stem.len().min(room);
        while !stem.is_char_boundary(cut) {
            cut -= 1;
        }
        Self(format!("{}.{ext}", &stem[..cut]))
    }

    /// A stored name, as [`FileName::sanitize`] made it.
    #[must_use]
    pub fn from_stored(name: String) -> Self {
        Self(name)
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name with contact details masked, when masking changes anything: the other party
    /// reads it as they read the body. Only the stem is masked (`notes.pdf` keeps `.pdf`), and
    /// the result is cleaned again, so `j***@e***.com.pdf` becomes `j___@e___.com.pdf` (no `*`
    /// in a `Content-Disposition` name) and the length limit still holds.
    #[must_use]
    pub(crate) fn masked_if_changed(&self) -> Option<Self> {
        let (stem, ext) = self.0.rsplit_once('.').unwrap_or((&self.0, ""));
        let masked = crate::masking::mask_pii(stem);
        if masked == stem {
            return None;
        }
        let cleaned: String = masked.chars().map(display_char).collect();
        let room = MAX_FILE_NAME_BYTES.saturating_sub(ext.len() + 1);
        let mut cut = cleaned.len().min(room);
        while !cleaned.is_char_boundary(cut) {
            cut -= 1;
        }
        let name = if ext.is_empty() {
            cleaned[..cut].to_owned()
        } else {
            format!("{}.{ext}", &cleaned[..cut])
        };
        (name != self.0).then_some(Self(name))
    }
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One character of a display name: control, shell-special and direction-changing characters
/// become `_` (a right-to-left override can make `evil\u{202e}fdp.exe` read as `evilexe.pdf`),
/// other whitespace a plain space.
fn display_char(c: char) -> char {
    const SPECIAL: [char; 12] = ['"', '\'', '<', '>', ':', '*', '?', '|', '%', ';', '`', '$'];
    let bidi =
        matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if c.is_control() || bidi || SPECIAL.contains(&c) {
        '_'
    } else if c.is_whitespace() {
        ' '
    } else {
        c
    }
}
