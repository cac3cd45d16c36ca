//! Masking of contact details in what one user writes for another to read: message bodies,
//! subjects, attachment names and display names.
//!
//! The tutoring marketplace hides contact details until two people have a booking, so that lessons
//! are arranged through the platform. [`mask_pii`] applies its rules in a fixed order: e-mail
//! addresses (written plainly or spelled out), phone numbers (formatted, announced or spelled
//! out), `http(s)` links, bare domains, `@handles`, and a messenger-app name followed by a handle.
//!
//! The system being replaced masked far too much: file names such as `notes.pdf`, any seven-digit
//! number, and ordinary words after "line" or "signal". Every rule here therefore finds candidates
//! with a permissive pattern and then decides, looking at the match and at its neighbours, whether
//! the candidate really is a contact detail. The `regex` crate has no look-around, which is why
//! those decisions are written as plain Rust rather than folded into the patterns.
//!
//! Cost is linear in the text. Each rule is one left-to-right pass (`apply`): a candidate is
//! either replaced or skipped, and the search goes on after it, so no part of the text is searched
//! again by the same rule, nothing recurses, and no pattern reads an unbounded stretch beyond what
//! its rule consumes (a domain's path, which may be long, is taken by hand and only once the domain
//! is being masked). `cargo xtask bench mask` compares adversarial inputs with ordinary prose.
//!
//! Masking is idempotent: masking an already masked text changes nothing, so a body that is edited
//! and masked again keeps the same shape.
//!
//! This file holds the order the rules run in and the single pass each of them is; the rules live
//! by what they find: e-mail addresses in `masking/email.rs`, phone numbers in `masking/phone.rs`,
//! links and bare domains in `masking/links.rs`, `@handles` and messenger handles in
//! `masking/handles.rs`, and the word lists more than one rule consults (real top-level domains,
//! ordinary words) in `masking/words.rs`.

use regex::{Captures, Match, Regex};

use email::{EMAIL, SPELLED_EMAIL, ends_in_a_tld, mask_email, mask_spelled_email};
use handles::{HANDLE, MESSENGER, mask_handle, mask_messenger_handle, may_end_in_a_handle};
use links::{DOMAIN, LINK, mask_domain, mask_link};
use phone::{
    ANNOUNCED_NUMBER, PHONE, SPELLED_NUMBER, mask_announced_number, mask_phone, mask_spelled_number,
};

mod email;
mod handles;
mod links;
mod phone;
mod words;

#[cfg(test)]
mod tests;

/// What a handle is replaced with.
const HIDDEN: &str = "***";

/// Compiles one of this module's constant patterns.
///
/// Word boundaries in the patterns are ASCII ones (`(?-u:\b)`), placed only next to ASCII words
/// and digits; where a boundary must respect letters of any script (a domain), the rule checks
/// the neighbouring characters itself. A Unicode `\b` would make the `regex` crate abandon its
/// fast engines for the slowest one on any text that is not pure ASCII, which made a German or
/// Japanese message ten times as costly to mask as an English one.
// Every pattern is a constant checked by the unit tests, which compile all of them, so a failure
// here is a programming error that `cargo test` reports, never a runtime condition.
#[allow(clippy::expect_used)]
fn constant_regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("constant masking pattern must compile")
}

/// Masks contact details in a text that another user will read, so that two people without a
/// booking cannot take their conversation off the platform.
///
/// The rules are applied in this order, each to the output of the one before:
/// 1. E-mail addresses keep their first letters and their last domain label:
///    `john@example.com` becomes `j***@e***.com`.
/// 2. E-mail addresses spelled out keep their shape the same way: `john at example dot com`
///    becomes `j*** at e*** dot com`, `john [at] example [dot] com` becomes
///    `j*** [at] e*** [dot] com`. Ordinary words on either side of " at " are prose ("look at
///    this dot com"), and the last label must be a real top-level domain.
/// 3. Phone numbers have every digit replaced by `*`, separators kept: `(555) 123-4567` becomes
///    `(***) ***-****`. A number counts as a phone when it starts with `+`, has a parenthesised
///    area code, is split into phone-shaped groups, or is a run of ten or more digits; dates,
///    prices, decimals, ranges and a lone seven-digit order number are left alone.
/// 4. A number of seven to fifteen digits announced as a phone number ("my number is 5551234",
///    "phone: 1234567", "call me on ...") has its digits replaced by `*`.
/// 5. Seven to fifteen digits written as a run of words and numbers ("five five five one two
///    three four", "5 5 5 1 2 3 4") have each digit or digit word replaced by `*`; counting
///    ("one, two, three, ...") is left alone.
/// 6. `http://` and `https://` links become `[external link removed]`.
/// 7. Bare domains whose last label is a real top-level domain become `[external link removed]`;
///    file names such as `notes.pdf` or `main.rs` are not domains.
/// 8. `@handles` become `@***`.
/// 9. After a messenger name ("whatsapp", "skype", "line", ...), a token that looks like a handle
///    becomes `***`, and the messenger name stays so that the reader understands what was hidden.
///    "Reach me on whatsapp at johnny99" and "my discord is jdoe" count as well as "whatsapp me
///    at johnny99".
///
/// All other text, including line breaks, Unicode and punctuation, is kept byte for byte, and
/// masking an already masked text returns it unchanged. The cost is linear in the length of the
/// text.
#[must_use]
pub fn mask_pii(text: &str) -> String {
    // Letters alone (most names, most single words) hold nothing any rule looks for: every rule
    // needs a digit, a space, an `@`, a dot or a colon. Names are masked each time they are read,
    // so this case is worth its line.
    if text.chars().all(|c| c.is_alphabetic() || c == '\'') {
        return text.to_owned();
    }
    let text = apply(text, &EMAIL, Rule::Match(mask_email));
    let text = apply(
        &text,
        &SPELLED_EMAIL,
        Rule::Groups {
            quick: ends_in_a_tld,
            decide: mask_spelled_email,
        },
    );
    let text = apply(&text, &PHONE, Rule::Match(mask_phone));
    let text = apply(&text, &ANNOUNCED_NUMBER, Rule::Match(mask_announced_number));
    let text = apply(&text, &SPELLED_NUMBER, Rule::Match(mask_spelled_number));
    let text = apply(&text, &LINK, Rule::Match(mask_link));
    let text = apply(&text, &DOMAIN, Rule::Match(mask_domain));
    let text = apply(&text, &HANDLE, Rule::Match(mask_handle));
    apply(
        &text,
        &MESSENGER,
        Rule::Groups {
            quick: may_end_in_a_handle,
            decide: mask_messenger_handle,
        },
    )
}

/// What a rule puts in place of `text[start..end]`.
struct Replacement {
    start: usize,
    end: usize,
    with: String,
}

/// A rule's decision about one match of its pattern: `None` keeps the text as it is. The decision
/// receives the whole text as well, because several rules look at the characters around a match
/// and the `regex` crate has no look-around.
#[derive(Clone, Copy)]
enum Rule {
    /// Decides from the matched text alone. Finding a match takes only the `regex` crate's fast
    /// engines; most rules are written this way, since a text full of candidates (a long list of
    /// addresses) pays for every match.
    Match(fn(Match<'_>, &str) -> Option<Replacement>),
    /// Needs the pattern's groups, which costs a slower engine over each match; `quick` sees the
    /// matched text first and may rule the match out without them.
    Groups {
        quick: fn(&str) -> bool,
        decide: fn(&Captures<'_>, &str) -> Option<Replacement>,
    },
}

/// Runs one rule over `text` in a single left-to-right pass: every match of `re` goes to the
/// rule, which may replace a part of it (or, for a domain, the match and the path that follows),
/// and the search goes on after the replaced part, or after the match when nothing was replaced.
fn apply(text: &str, re: &Regex, rule: Rule) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while from < text.len() {
        let (whole, decision) = match rule {
            Rule::Match(decide) => {
                let Some(found) = re.find_at(text, from) else {
                    break;
                };
                (found, decide(found, text))
            }
            Rule::Groups { quick, decide } => {
                let Some(found) = re.find_at(text, from) else {
                    break;
                };
                if !quick(found.as_str()) {
                    (found, None)
                } else {
                    // The same search again, now with groups: it finds the same match.
                    let Some(caps) = re.captures_at(text, from) else {
                        break;
                    };
                    let Some(found) = caps.get(0) else { break };
                    (found, decide(&caps, text))
                }
            }
        };
        let next = match decision {
            Some(r) if r.start >= copied && r.end >= r.start => {
                out.push_str(&text[copied..r.start]);
                out.push_str(&r.with);
                copied = r.end;
                r.end.max(whole.start() + 1)
            }
            _ => whole.end().max(whole.start() + 1),
        };
        // Every pattern here matches at least one character, so the search always moves on; the
        // guard above keeps it moving (to a character boundary) whatever a future pattern does.
        from = next;
        while !text.is_char_boundary(from) {
            from += 1;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// Replaces the whole match with `with`.
fn whole_match(found: Match<'_>, with: String) -> Option<Replacement> {
    Some(Replacement {
        start: found.start(),
        end: found.end(),
        with,
    })
}

/// The character just before byte offset `at`, if any.
fn char_before(text: &str, at: usize) -> Option<char> {
    text[..at].chars().next_back()
}

/// The character at byte offset `at`, if any.
fn char_at(text: &str, at: usize) -> Option<char> {
    text[at..].chars().next()
}

/// The second character before byte offset `at`, if any.
fn second_char_before(text: &str, at: usize) -> Option<char> {
    text[..at].chars().rev().nth(1)
}

/// The character after the one at byte offset `at`, if any.
fn char_after_next(text: &str, at: usize) -> Option<char> {
    text[at..].chars().nth(1)
}

/// The text of a named group, or the empty string when it did not take part in the match.
fn group<'t>(caps: &Captures<'t>, name: &str) -> &'t str {
    caps.name(name).map_or("", |m| m.as_str())
}
