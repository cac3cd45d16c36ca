//! Rules 1 and 2: e-mail addresses, written plainly (`john@example.com`) or spelled out so that
//! filters miss them (`john at example dot com`). Both keep the address's shape and only the
//! first letter of each part.

use std::sync::LazyLock;

use regex::{Captures, Match, Regex};

use super::words::{is_ordinary_word, is_tld};
use super::{HIDDEN, Replacement, constant_regex, group, whole_match};

/// An e-mail address. `*` is accepted in both parts so that an already masked address
/// (`j***@e***.com`) is recognised and rewritten to itself rather than picked apart by later rules.
pub(super) static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    constant_regex(
        r"[\p{L}\p{N}*][\p{L}\p{N}._+*-]*@[\p{L}\p{N}*][\p{L}\p{N}*-]*(?:\.[\p{L}\p{N}*][\p{L}\p{N}*-]*)*\.\p{L}{2,24}",
    )
});

/// An e-mail address written so that filters miss it: `john at example dot com`,
/// `john [at] example [dot] com`, `john(at)example(dot)com`, `john @ example.com`. An `@` with a
/// space before it only is a handle (`find me @john.doe.com`). Whether a candidate is an address
/// is decided by [`mask_spelled_email`]. Unlike [`EMAIL`], the parts hold no `*`, so that masked
/// addresses (`j***@e***.com`, `j*** at e*** dot com`) are not candidates: a text full of them
/// costs no more here than prose.
pub(super) static SPELLED_EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    let open = r"[\[\(\{<]";
    let close = r"[\]\)\}>]";
    let dot = format!(r"[ \t]*{open}[ \t]*(?i:dot)[ \t]*{close}[ \t]*|[ \t]+(?i:dot)[ \t]+|\.");
    let label = r"[\p{L}\p{N}][\p{L}\p{N}-]*";
    constant_regex(&format!(
        concat!(
            r"(?P<local>[\p{{L}}\p{{N}}][\p{{L}}\p{{N}}._+-]*)",
            r"(?P<at>[ \t]*{open}[ \t]*(?i:at)[ \t]*{close}[ \t]*|[ \t]+(?i:at)[ \t]+|[ \t]+@[ \t]+|@[ \t]*)",
            r"(?P<domain>{label}(?:(?:{dot}){label})*)",
            r"(?P<dot>{dot})(?P<tld>\p{{L}}{{2,24}})",
        ),
        open = open,
        close = close,
        dot = dot,
        label = label,
    ))
});

/// Rule 1: `john@example.com` becomes `j***@e***.com`. Only the first character of each part and
/// the last domain label survive, which is enough for the reader to see that an address was
/// shared and not enough to use it.
pub(super) fn mask_email(found: Match<'_>, _text: &str) -> Option<Replacement> {
    // Neither part holds an `@`, and the top-level domain holds no dot.
    let (local, rest) = found.as_str().split_once('@')?;
    let (domain, tld) = rest.rsplit_once('.')?;
    let mut with = String::with_capacity(found.len());
    push_masked_part(&mut with, local);
    with.push('@');
    push_masked_part(&mut with, domain);
    with.push('.');
    with.push_str(tld);
    whole_match(found, with)
}

/// The first character of `part` followed by `***`. A part that is already only stars is kept as
/// it is, and one that starts with a star becomes `***`, so that masking a masked address neither
/// grows nor shrinks it.
fn masked_part(part: &str) -> String {
    let mut out = String::with_capacity(part.len().max(4));
    push_masked_part(&mut out, part);
    out
}

/// Appends [`masked_part`] of `part` to `out`.
fn push_masked_part(out: &mut String, part: &str) {
    match part.chars().next() {
        _ if part.bytes().all(|b| b == b'*') => out.push_str(part),
        Some(first) if first != '*' => {
            out.push(first);
            out.push_str(HIDDEN);
        }
        _ => out.push_str(HIDDEN),
    }
}

/// Rule 2: a spelled-out address keeps its separators as typed and is masked like rule 1:
/// `john at mail dot example dot com` becomes `j*** at m*** dot com`.
pub(super) fn mask_spelled_email(caps: &Captures<'_>, _text: &str) -> Option<Replacement> {
    let local = group(caps, "local");
    let at = group(caps, "at");
    let domain = group(caps, "domain");
    let dot = group(caps, "dot");
    let tld = group(caps, "tld");
    // A plain `name@domain.tld` is rule 1's; it only gets here when rule 1 already masked it.
    let spelled_dots =
        dot != "." || domain.contains(|c: char| !(c.is_alphanumeric() || "*-.".contains(c)));
    if (at == "@" && !spelled_dots) || !is_tld(tld) {
        return None;
    }
    // " at " and " dot " between ordinary words are prose: "look at this dot com".
    let first_label = domain
        .split(|c: char| !(c.is_alphanumeric() || c == '*' || c == '-'))
        .next()
        .unwrap_or_default();
    let is_word = |sep: &str| sep.trim().chars().all(char::is_alphabetic);
    let worded = is_word(at) || is_word(dot);
    if worded && (is_ordinary_word(local) || is_ordinary_word(first_label)) {
        return None;
    }
    whole_match(
        caps.get(0)?,
        format!(
            "{}{at}{}{dot}{tld}",
            masked_part(local),
            masked_part(domain)
        ),
    )
}

/// Whether a [`SPELLED_EMAIL`] match ends in a real top-level domain, which [`mask_spelled_email`]
/// requires: "john at example dot john at ..." is ruled out here without the pattern's groups.
pub(super) fn ends_in_a_tld(found: &str) -> bool {
    let letters = found
        .bytes()
        .rev()
        .take_while(u8::is_ascii_alphabetic)
        .count();
    is_tld(&found[found.len() - letters..])
}
