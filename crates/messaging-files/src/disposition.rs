//! `Content-Disposition` values (RFC 6266) that make a browser save a file under its display name.

use std::fmt::Write;

/// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded name>`: the
/// fallback replaces quotes, backslashes and anything outside printable ASCII, and the extended
/// form carries the exact name (RFC 5987 encoding), so no name can break out of the header.
#[must_use]
pub fn content_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for byte in name.bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            );
        if keep {
            encoded.push(char::from(byte));
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn names_cannot_break_out_of_the_header() {
        let cases = [
            (
                "report.pdf",
                "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf",
            ),
            (
                "my \"résumé\".docx",
                "attachment; filename=\"my _r_sum__.docx\"; filename*=UTF-8''my%20%22r%C3%A9sum%C3%A9%22.docx",
            ),
            (
                "a\r\nb.txt",
                "attachment; filename=\"a__b.txt\"; filename*=UTF-8''a%0D%0Ab.txt",
            ),
        ];
        for (name, expected) in cases {
            assert_eq!(content_disposition(name), expected, "{name}");
        }
    }
}
