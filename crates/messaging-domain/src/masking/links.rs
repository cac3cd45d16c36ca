//! Rules 6 and 7: `http(s)` links and bare domains (`example.com`, `my-site.io/path`) become
//! `[external link removed]`; file names such as `notes.pdf` or `main.rs` are not domains.

use std::sync::LazyLock;

use regex::{Match, Regex};

use super::words::is_tld;
use super::{Replacement, char_at, char_before, constant_regex};

/// What a removed link or domain is replaced with, so the reader knows something was there.
const LINK_REMOVED: &str = "[external link removed]";

/// Technology names that are spelled like a domain but are not one.
const NOT_DOMAINS: &[&str] = &["asp.net", "ado.net", "vb.net"];

/// An `http://` or `https://` link, up to the next whitespace or quote.
pub(super) static LINK: LazyLock<Regex> =
    LazyLock::new(|| constant_regex(r#"(?i)(?-u:\b)https?://[^\s<>"]+"#));

/// A candidate bare domain: dot-separated labels. Whether it stands alone as a word and whether
/// the last label is a real TLD is decided by [`mask_domain`], which also takes the port and the
/// path that follow.
pub(super) static DOMAIN: LazyLock<Regex> = LazyLock::new(|| {
    // Label lengths (at most 63) are checked by the rule: a counted repetition here multiplies
    // the states the lazy DFA needs on a long word until it gives up for the slow engine.
    constant_regex(r"(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?\.)+\p{L}{2,24}")
});

/// Rule 6: replaces an `http(s)://` link, leaving out sentence punctuation that follows it and a
/// closing parenthesis that does not belong to it, as in "(see `https://example.com`)".
pub(super) fn mask_link(link: Match<'_>, _text: &str) -> Option<Replacement> {
    let kept = trim_trailing_punctuation(link.as_str());
    Some(Replacement {
        start: link.start(),
        end: link.start() + kept.len(),
        with: LINK_REMOVED.to_owned(),
    })
}

/// `text` without trailing sentence punctuation, and without trailing closing parentheses that
/// have no opening partner inside `text`. The parentheses are counted once, so the cost is
/// linear however much punctuation there is.
fn trim_trailing_punctuation(text: &str) -> &str {
    let opens = text.matches('(').count();
    let mut closes = text.matches(')').count();
    let mut kept = text;
    loop {
        match kept.chars().next_back() {
            Some('.' | ',' | ';' | ':' | '!' | '?' | '\'' | ']' | '}') => {}
            Some(')') if closes > opens => closes -= 1,
            _ => return kept,
        }
        kept = &kept[..kept.len() - 1];
    }
}

/// Rule 7: replaces a bare domain such as `example.com`, `www.x.co.uk` or `my-site.io/path`,
/// with its port and path.
///
/// When the candidate runs on past the domain, as in `example.com.Thanks` (a missing space after
/// a full stop), the longest leading part that ends in a real TLD is masked and the search goes on
/// after it.
pub(super) fn mask_domain(whole: Match<'_>, text: &str) -> Option<Replacement> {
    let host = whole.as_str();
    // The domain must be a word of its own: `x_example.com` and `example.com9` are not domains.
    let word_char = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    if word_char(char_before(text, whole.start())) || word_char(char_at(text, whole.end())) {
        return None;
    }
    // After `@` this is a handle such as `@john.doe.com`, which rule 8 masks whole. What follows
    // it is searched as the pass goes on.
    if char_before(text, whole.start()) == Some('@') {
        return None;
    }
    if NOT_DOMAINS.contains(&host.to_lowercase().as_str()) {
        return None;
    }
    let labels: Vec<&str> = host.split('.').collect();
    if labels.iter().any(|l| l.len() > 63) {
        return None;
    }
    // The last label that is a real TLD (never the first: `com.pdf` is no domain).
    let mut last_tld = None;
    for index in (1..labels.len()).rev() {
        if is_tld(labels[index]) {
            last_tld = Some(index);
            break;
        }
    }
    let last_tld = last_tld?;
    if last_tld + 1 < labels.len() {
        let domain_len: usize = labels[..=last_tld]
            .iter()
            .map(|l| l.len() + 1)
            .sum::<usize>()
            - 1;
        return Some(Replacement {
            start: whole.start(),
            end: whole.start() + domain_len,
            with: LINK_REMOVED.to_owned(),
        });
    }
    // The port and the path are taken here rather than by the pattern, so that a domain that is
    // not masked never makes the search read its path (which may be the rest of the text).
    let after = &text[whole.end()..];
    let port_len = port_len(after);
    let path = &after[port_len..];
    let path_len = if path.starts_with('/') {
        path.find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
            .unwrap_or(path.len())
    } else {
        0
    };
    let kept = trim_trailing_punctuation(&after[..port_len + path_len]);
    Some(Replacement {
        start: whole.start(),
        end: whole.end() + kept.len(),
        with: LINK_REMOVED.to_owned(),
    })
}

/// The length of a port (`:8080`) at the start of `text`: a colon and one to five digits that end
/// the word; zero when there is none.
fn port_len(text: &str) -> usize {
    let Some(rest) = text.strip_prefix(':') else {
        return 0;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let ends_word = rest[digits..]
        .chars()
        .next()
        .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
    if (1..=5).contains(&digits) && ends_word {
        1 + digits
    } else {
        0
    }
}
