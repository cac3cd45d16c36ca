//! Masking of contact details in message bodies.
//!
//! The tutoring marketplace hides contact details until two people have a booking, so that lessons
//! are arranged through the platform. [`mask_pii`] applies six rules in a fixed order: e-mail
//! addresses, phone numbers, `http(s)` links, bare domains, `@handles`, and a messenger-app name
//! followed by a handle.
//!
//! The system being replaced masked far too much: file names such as `notes.pdf`, any seven-digit
//! number, and ordinary words after "line" or "signal". Every rule here therefore finds candidates
//! with a permissive pattern and then decides, looking at the match and at its neighbours, whether
//! the candidate really is a contact detail. The `regex` crate has no look-around, which is why
//! those decisions are written as plain Rust rather than folded into the patterns.
//!
//! Masking is idempotent: masking an already masked text changes nothing, so a body that is edited
//! and masked again keeps the same shape.

use std::sync::LazyLock;

use regex::{Captures, Regex};

#[cfg(test)]
mod tests;

/// What a removed link or domain is replaced with, so the reader knows something was there.
const LINK_REMOVED: &str = "[external link removed]";

/// What a handle is replaced with.
const HIDDEN: &str = "***";

/// Top-level domains that count as a web address when they end a bare `name.tld` token.
///
/// This is an allow-list on purpose: with a generic "two or more letters" rule, `notes.pdf` and
/// `main.rs` look exactly like domains. Real TLDs that are also common file extensions (`rs`, `py`,
/// `md`, `sh`, `pl`, `ai`, `zip`, `mov`, `ps`, `ml`) or everyday English words (`is`, `it`, `to`,
/// `so`, `do`, `at`, `be`, `no`) are left out, because a typo such as `done.it` is far more likely
/// in a chat message than a link to one of those domains.
const TLDS: &[&str] = &[
    // Generic domains.
    "com", "net", "org", "edu", "gov", "mil", "int", "info", "biz", "pro", "mobi", "asia", "io",
    "co", "me", "app", "dev", "ly", "tv", "fm", "gg", "cc", "ws", "xyz", "tech", "online", "site",
    "store", "shop", "blog", "club", "cloud", "academy",
    // Country domains that are not also file extensions or English words.
    "uk", "us", "ca", "au", "nz", "ie", "in", "de", "fr", "es", "nl", "ch", "se", "dk", "fi", "pt",
    "ru", "cn", "jp", "kr", "br", "mx", "ar", "za", "eu", "cz", "gr", "hu", "ro", "tr", "ua", "il",
    "sg", "hk", "tw", "ph", "pk", "ng", "ke", "vn", "gl",
];

/// Technology names that are spelled like a domain but are not one.
const NOT_DOMAINS: &[&str] = &["asp.net", "ado.net", "vb.net"];

/// Messenger names that are also ordinary English words. After one of these, only a token that
/// looks like a handle, or a plain word after an explicit cue such as "me at" or "id", is masked:
/// "stand in line for the bus" and "a good signal" must survive.
const AMBIGUOUS_APPS: &[&str] = &["line", "signal", "skype", "discord", "telegram"];

/// Words that are never a handle, even right after a messenger name: "whatsapp me on monday",
/// "instagram is great", "my snapchat account". Separated by spaces and compared ignoring case;
/// see [`is_ordinary_word`].
const ORDINARY_WORDS: &str = concat!(
    // Function words.
    "a about after again all also always am an and any anymore anyone anything anytime anyway ",
    "are around as at away back be because been before between both but by can cannot could ",
    "did didn do does doesn don during each either else even ever every for from had has have ",
    "he her here him his how i if in instead into is isn it its just like maybe me more most ",
    "much my never no not now of off ok okay on once only or other our out over please rather ",
    "really she should since so some still than thanks that the their them then there these ",
    "they this those though through to too until up us very was wasn we well were what when ",
    "where which while who why will with without won would yes yet you your ",
    // Times of day and calendar words, which follow "me at" and "me on".
    "today tomorrow tonight yesterday later soon morning afternoon evening night noon ",
    "midnight day days daily week weeks weekend weekends weekday weekdays monday tuesday ",
    "wednesday thursday friday saturday sunday january february march april may june july ",
    "august september october november december time times home work school ",
    // Words people write about the apps themselves.
    "account app apps call calls chat chats group groups channel server message messages dm ",
    "dms post posts story stories reel reels feed profile page status video videos voice web ",
    "desktop phone number contact link live lesson lessons class classes ",
    // Verdicts, as in "instagram is great" or "whatsapp is down".
    "good great bad better best fine fun cool nice easy hard free down slow fast blocked ",
    "banned broken working works useful annoying popular safe secure missing wrong required ",
    "optional needed same different correct invalid private public hidden unknown ",
    // Messenger names, so that "signal me on whatsapp" is left alone.
    "whatsapp telegram skype signal snapchat instagram insta discord wechat viber line kik ",
    "zoom email text",
);

/// Compiles one of this module's constant patterns.
// Every pattern is a constant checked by the unit tests, which compile all of them, so a failure
// here is a programming error that `cargo test` reports, never a runtime condition.
#[allow(clippy::expect_used)]
fn constant_regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("constant masking pattern must compile")
}

/// An e-mail address. `*` is accepted in both parts so that an already masked address
/// (`j***@e***.com`) is recognised and rewritten to itself rather than picked apart by later rules.
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    constant_regex(
        r"(?P<local>[\p{L}\p{N}*][\p{L}\p{N}._+*-]*)@(?P<domain>[\p{L}\p{N}*][\p{L}\p{N}*-]*(?:\.[\p{L}\p{N}*][\p{L}\p{N}*-]*)*)\.(?P<tld>\p{L}{2,24})\b",
    )
});

/// A candidate phone number. Each alternative is deliberately loose; [`mask_phone`] decides.
///
/// - `intl`: a `+` followed by digit groups, optionally with a parenthesised area code.
/// - `paren`: a parenthesised area code followed by a local number, `(555) 123-4567`.
/// - `groups`: digit groups joined by one kind of separator (dash, dot or space). Requiring the
///   same separator throughout stops `2019-2020 555-1234` from being read as one long number.
/// - `run`: ten or more digits in a row.
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    constant_regex(concat!(
        r"(?P<intl>\+[0-9]{1,4}(?:[ .-]?\([0-9]{1,5}\))?(?:[ .-]?[0-9]{1,5}){1,6})",
        r"|(?P<paren>\([0-9]{2,5}\) ?[0-9]{3,4}[ .-]?[0-9]{3,5})",
        r"|(?P<groups>\b[0-9]{1,5}(?:-[0-9]{2,8}){1,5}\b",
        r"|\b[0-9]{1,5}(?:\.[0-9]{2,8}){1,5}\b",
        r"|\b[0-9]{1,5}(?: [0-9]{2,8}){1,5}\b)",
        r"|(?P<run>\b[0-9]{10,}\b)",
    ))
});

/// An `http://` or `https://` link, up to the next whitespace or quote.
static LINK: LazyLock<Regex> = LazyLock::new(|| constant_regex(r#"(?i)\bhttps?://[^\s<>"]+"#));

/// A candidate bare domain: dot-separated labels, an optional port and an optional path. Whether
/// the last label is a real TLD is decided by [`mask_domain`].
static DOMAIN: LazyLock<Regex> = LazyLock::new(|| {
    constant_regex(
        r#"\b(?P<host>(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+\p{L}{2,24})\b(?P<rest>(?::[0-9]{1,5}\b)?(?:/[^\s<>"]*)?)"#,
    )
});

/// A candidate `@handle`; dots and hyphens are allowed inside, as on Instagram and in
/// `@john.doe.com`, which rule 4 leaves to this rule.
static HANDLE: LazyLock<Regex> =
    LazyLock::new(|| constant_regex(r"@(?P<name>[\p{L}\p{N}_](?:[\p{L}\p{N}_.-]*[\p{L}\p{N}_])?)"));

/// A messenger name, what links it to the handle, and the token that may be the handle.
///
/// The link is captured in one of three groups, tried in this order:
/// - `cue`: "me at", "me on", "id", "handle", "username": the writer is about to give a handle.
/// - `label`: a colon, "is", "number", "account" and the like: a handle often follows, but so
///   does ordinary prose ("the line is long").
/// - `bare`: only spaces.
///
/// Separators are spaces and tabs, never line breaks, so that a messenger name ending one line is
/// not joined to the first word of the next.
static MESSENGER: LazyLock<Regex> = LazyLock::new(|| {
    constant_regex(concat!(
        r"(?i)\b(?P<app>whats ?app|telegram|skype|signal|snap ?chat|instagram|insta|discord",
        r"|we ?chat|viber|line|kik)\b",
        r"(?:(?P<cue>[ \t]+(?:me|us)[ \t]+(?:(?:at|on|via)[ \t]+|@[ \t]*)",
        r"|[ \t]+(?:id|handle|username|user ?name)(?:[ \t]*:[ \t]*|[ \t]+is(?:[ \t]*:[ \t]*|[ \t]+)|[ \t]+))",
        r"|(?P<label>[ \t]*:[ \t]*",
        r"|[ \t]+(?:number|no\.|num|account|acc|name|user|contact)(?:[ \t]*:[ \t]*|[ \t]+is(?:[ \t]*:[ \t]*|[ \t]+)|[ \t]+)",
        r"|[ \t]+is(?:[ \t]*:[ \t]*|[ \t]+))",
        r"|(?P<bare>[ \t]+(?:me|us)[ \t]+|[ \t]+))",
        r"(?P<token>[\p{L}\p{N}_*#@][\p{L}\p{N}_*#@.-]*)",
    ))
});

/// Tokens that contain digits but are times, ordinals, quantities or version numbers, not handles:
/// "whatsapp me at 5pm", "line 2nd", "skype v1.2.3".
static NOT_A_HANDLE: LazyLock<Regex> = LazyLock::new(|| {
    constant_regex(concat!(
        r"(?i)^(?:[0-9]{1,2}(?:[:.h][0-9]{2})?(?:am|pm|h)?",
        r"|[0-9]+(?:st|nd|rd|th|am|pm|hrs?|mins?|k|m|g|x|kg|km|cm|mm|s)",
        r"|v?[0-9]+(?:\.[0-9]+)+)$",
    ))
});

/// Masks contact details in a message body so that two people without a booking cannot take their
/// conversation off the platform.
///
/// The rules are applied in this order, each to the output of the one before:
/// 1. E-mail addresses keep their first letters and their last domain label:
///    `john@example.com` becomes `j***@e***.com`.
/// 2. Phone numbers have every digit replaced by `*`, separators kept: `(555) 123-4567` becomes
///    `(***) ***-****`. A number counts as a phone when it starts with `+`, has a parenthesised
///    area code, is split into phone-shaped groups, or is a run of ten or more digits; dates,
///    prices, decimals, ranges and a lone seven-digit order number are left alone.
/// 3. `http://` and `https://` links become `[external link removed]`.
/// 4. Bare domains whose last label is a real top-level domain become `[external link removed]`;
///    file names such as `notes.pdf` or `main.rs` are not domains.
/// 5. `@handles` become `@***`.
/// 6. After a messenger name ("whatsapp", "skype", "line", ...), a token that looks like a handle
///    becomes `***`, and the messenger name stays so that the reader understands what was hidden.
///
/// All other text, including line breaks, Unicode and punctuation, is kept byte for byte, and
/// masking an already masked text returns it unchanged.
#[must_use]
pub fn mask_pii(text: &str) -> String {
    let text = replace_matches(text, &EMAIL, mask_email);
    let text = replace_matches(&text, &PHONE, mask_phone);
    let text = replace_matches(&text, &LINK, mask_link);
    let text = replace_matches(&text, &DOMAIN, mask_domain);
    let text = replace_matches(&text, &HANDLE, mask_handle);
    replace_matches(&text, &MESSENGER, mask_messenger_handle)
}

/// Rewrites every match of `re` in `text` for which `decide` returns a replacement, and copies
/// everything else unchanged. `decide` receives the whole text as well, because several rules need
/// to look at the characters around a match and the `regex` crate has no look-around.
fn replace_matches(
    text: &str,
    re: &Regex,
    mut decide: impl FnMut(&Captures<'_>, &str) -> Option<String>,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied_up_to = 0;
    for caps in re.captures_iter(text) {
        let Some(whole) = caps.get(0) else { continue };
        if let Some(replacement) = decide(&caps, text) {
            out.push_str(&text[copied_up_to..whole.start()]);
            out.push_str(&replacement);
            copied_up_to = whole.end();
        }
    }
    out.push_str(&text[copied_up_to..]);
    out
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

/// Rule 1: `john@example.com` becomes `j***@e***.com`. Only the first character of each part and
/// the last domain label survive, which is enough for the reader to see that an address was
/// shared and not enough to use it.
fn mask_email(caps: &Captures<'_>, _text: &str) -> Option<String> {
    let local = masked_part(group(caps, "local"));
    let domain = masked_part(group(caps, "domain"));
    let tld = group(caps, "tld");
    Some(format!("{local}@{domain}.{tld}"))
}

/// The first character of `part` followed by `***`. A part that is already only stars is kept as
/// it is, and one that starts with a star becomes `***`, so that masking a masked address neither
/// grows nor shrinks it.
fn masked_part(part: &str) -> String {
    match part.chars().next() {
        _ if part.chars().all(|c| c == '*') => part.to_owned(),
        Some(first) if first != '*' => format!("{first}{HIDDEN}"),
        _ => HIDDEN.to_owned(),
    }
}

/// Rule 2: replaces every digit of a phone number with `*` and keeps the separators, so the shape
/// of the number remains visible.
fn mask_phone(caps: &Captures<'_>, text: &str) -> Option<String> {
    let whole = caps.get(0)?;
    if is_part_of_a_larger_number(text, whole.start(), whole.end()) {
        return None;
    }
    let candidate = whole.as_str();
    let digits = candidate.chars().filter(char::is_ascii_digit).count();
    let is_phone = if caps.name("intl").is_some() || caps.name("paren").is_some() {
        (7..=15).contains(&digits)
    } else if caps.name("groups").is_some() {
        is_phone_shaped_groups(candidate)
    } else {
        // A run of ten or more digits is too long for a price, a date or an order number that a
        // person would type, and is exactly the shape of a phone number written without spaces.
        true
    };
    is_phone.then(|| {
        candidate
            .chars()
            .map(|c| if c.is_ascii_digit() { '*' } else { c })
            .collect()
    })
}

/// Whether the digits between `start` and `end` belong to an amount, a decimal, a time or a
/// percentage rather than standing alone: `$1000-2000`, `3.14159265358979`, `14:00-15:30`, `50%`.
fn is_part_of_a_larger_number(text: &str, start: usize, end: usize) -> bool {
    let before = char_before(text, start);
    let after = char_at(text, end);
    let currency = |c: Option<char>| matches!(c, Some('$' | '€' | '£' | '¥' | '₹'));
    // A `*` is a digit that an earlier match already masked; counting it keeps the decision the
    // same when an already masked text is masked again.
    let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit() || c == '*');
    // A separator with a digit on its far side continues the number: `3.14159265358979` and
    // `1,000-2,000` are amounts, and `14:00-15:30` is a time range. A colon without a digit
    // beyond it, as in `tel:+15551234567`, is only a label.
    let joined_before =
        matches!(before, Some('.' | ',' | ':')) && digit(second_char_before(text, start));
    // After a comma, only a group of exactly three digits continues the number (`1,000-2,000`);
    // a comma that merely separates items (`555-1234,2025`) does not.
    let joined_after = match after {
        Some('.' | ':') => digit(char_after_next(text, end)),
        Some(',') => is_thousands_group(&text[end + 1..]),
        _ => false,
    };
    currency(before) || joined_before || joined_after || after == Some('%')
}

/// Whether `text` starts with exactly three digits, as the group after a thousands comma does.
fn is_thousands_group(text: &str) -> bool {
    let digits = text
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '*')
        .count();
    digits == 3
        && text[3..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric())
}

/// Decides whether digit groups joined by one separator (`555-1234`, `07700 900123`,
/// `555.123.4567`) are a phone number rather than a date, a range, a decimal or a large number.
fn is_phone_shaped_groups(candidate: &str) -> bool {
    let Some(separator) = candidate.chars().find(|c| !c.is_ascii_digit()) else {
        return false;
    };
    let groups: Vec<&str> = candidate.split(separator).collect();
    let digits: usize = groups.iter().map(|g| g.len()).sum();
    // Seven digits is the shortest local number (`555-1234`); fifteen is the longest the
    // international numbering plan allows.
    if !(7..=15).contains(&digits) {
        return false;
    }
    let is_year = |g: &str| g.len() == 4 && (g.starts_with("19") || g.starts_with("20"));
    if let [first, second] = groups.as_slice() {
        let (a, b) = (first.len(), second.len());
        return match separator {
            // `123.4567` is a decimal number.
            '.' => false,
            // `555-1234` is a local number; `07700-900123` is a UK mobile. `2019-2020` and
            // `1000-2000` are ranges, so four digits on both sides do not count.
            '-' => (a == 3 && b == 4) || ((4..=5).contains(&a) && (5..=8).contains(&b)),
            // `555 1234`, `07700 900123` and `9123 4567` are numbers; `2024 1500` starts with a
            // year.
            _ => {
                (a == 3 && b == 4)
                    || ((4..=5).contains(&a)
                        && (4..=8).contains(&b)
                        && !is_year(first)
                        && !is_year(second))
            }
        };
    }
    // `2025-10-21`, `21.10.2025` and `10.21.2025` are dates.
    let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    let is_date = matches!(lens.as_slice(), [4, 1..=2, 1..=2] | [1..=2, 1..=2, 4]);
    // `1.234.567`, `12 345 678` and `192.168.100.200` group digits by thousands, as numbers do.
    let is_thousands = separator != '-'
        && groups.first().is_some_and(|g| g.len() <= 3)
        && groups.iter().skip(1).all(|g| g.len() == 3);
    let all_years = groups.iter().all(|g| is_year(g));
    // `10 20 30 40` is a list of small numbers; a phone written in pairs (`06 12 34 56 78`)
    // starts with the trunk prefix 0.
    let small_pairs = lens.iter().all(|&l| l <= 2) && !candidate.starts_with('0');
    !(is_date || is_thousands || all_years || small_pairs)
}

/// Rule 3: replaces an `http(s)://` link, leaving out sentence punctuation that follows it and a
/// closing parenthesis that does not belong to it, as in "(see `https://example.com`)".
fn mask_link(caps: &Captures<'_>, _text: &str) -> Option<String> {
    let link = caps.get(0)?.as_str();
    let kept = trim_trailing_punctuation(link);
    Some(format!("{LINK_REMOVED}{}", &link[kept.len()..]))
}

/// `text` without trailing sentence punctuation, and without trailing closing parentheses that
/// have no opening partner inside `text`.
fn trim_trailing_punctuation(text: &str) -> &str {
    let mut kept = text;
    loop {
        let opens = kept.matches('(').count();
        let closes = kept.matches(')').count();
        match kept.chars().next_back() {
            Some('.' | ',' | ';' | ':' | '!' | '?' | '\'' | ']' | '}') => {}
            Some(')') if closes > opens => {}
            _ => return kept,
        }
        kept = &kept[..kept.len() - 1];
    }
}

/// Whether `label` is a top-level domain written as one. A two-letter label in mixed case, such as
/// the `Me` in `like it.Me too` or the `In` in `2010.In the end`, is a missing space after a full
/// stop; longer ones such as `Example.Com` are still domains.
fn is_tld(label: &str) -> bool {
    let uniform_case =
        label.chars().all(char::is_lowercase) || label.chars().all(char::is_uppercase);
    (uniform_case || label.chars().count() > 2) && TLDS.contains(&label.to_lowercase().as_str())
}

/// Rule 4: replaces a bare domain such as `example.com`, `www.x.co.uk` or `my-site.io/path`.
///
/// When the candidate runs on past the domain, as in `example.com.Thanks` (a missing space after
/// a full stop), the longest leading part that ends in a real TLD is masked and the rest is
/// searched again.
fn mask_domain(caps: &Captures<'_>, text: &str) -> Option<String> {
    let whole = caps.get(0)?;
    let host = group(caps, "host");
    let rest = group(caps, "rest");
    // After `@` this is a handle such as `@john.doe.com`, which rule 5 masks whole. What follows
    // it is still searched, as it would be on a second pass.
    if char_before(text, whole.start()) == Some('@') {
        return Some(format!(
            "{host}{}",
            replace_matches(rest, &DOMAIN, mask_domain)
        ));
    }
    if NOT_DOMAINS.contains(&host.to_lowercase().as_str()) {
        return None;
    }
    let labels: Vec<&str> = host.split('.').collect();
    let last_tld = labels
        .iter()
        .enumerate()
        .skip(1)
        .rev()
        .find(|(_, label)| is_tld(label))
        .map(|(index, _)| index)?;
    if last_tld + 1 == labels.len() {
        let path = trim_trailing_punctuation(rest);
        return Some(format!("{LINK_REMOVED}{}", &rest[path.len()..]));
    }
    let domain_len: usize = labels[..=last_tld]
        .iter()
        .map(|l| l.len() + 1)
        .sum::<usize>()
        - 1;
    // The labels after the TLD and the path were not searched on their own, so search them now:
    // otherwise a second pass would find a domain in them and masking would not be idempotent.
    let remainder = format!("{}{rest}", &host[domain_len..]);
    Some(format!(
        "{LINK_REMOVED}{}",
        replace_matches(&remainder, &DOMAIN, mask_domain)
    ))
}

/// Rule 5: `@john_doe` becomes `@***`.
///
/// The `@` must start a word: after a letter, digit or `*` it belongs to an e-mail address, masked
/// or not. The name must end the word too: followed by `*` or `@`, as in `@j***@e***.com`, it is
/// the start of a masked address. A name made only of digits is a time ("see you @3", "@10:30"),
/// not a handle.
fn mask_handle(caps: &Captures<'_>, text: &str) -> Option<String> {
    let whole = caps.get(0)?;
    let starts_word = char_before(text, whole.start()).is_none_or(|c| {
        !(c.is_alphanumeric() || matches!(c, '_' | '*' | '.' | '-' | '+' | '@' | '/'))
    });
    let ends_word = !matches!(char_at(text, whole.end()), Some('*' | '@'));
    let name = group(caps, "name");
    let is_time = name.chars().all(|c| c.is_ascii_digit()) || NOT_A_HANDLE.is_match(name);
    (starts_word && ends_word && !is_time).then(|| format!("@{HIDDEN}"))
}

/// How strongly the words between a messenger name and the next token announce a handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cue {
    /// "me at", "id", "username": a handle is coming.
    Explicit,
    /// A colon, "is", "number", "account": a handle may follow, or ordinary prose.
    Label,
    /// Nothing but spaces.
    Bare,
}

/// Rule 6: after a messenger name, replaces a token that is a handle with `***`, keeping the
/// messenger name and the words that link it to the handle.
fn mask_messenger_handle(caps: &Captures<'_>, _text: &str) -> Option<String> {
    let whole = caps.get(0)?;
    let token_match = caps.name("token")?;
    let app = group(caps, "app").to_lowercase();
    let cue = if caps.name("cue").is_some() {
        Cue::Explicit
    } else if caps.name("label").is_some() {
        Cue::Label
    } else {
        Cue::Bare
    };
    // Sentence punctuation after the token ("skype john.doe.") is not part of the handle.
    let token = token_match.as_str().trim_end_matches(['.', '-']);
    if !is_messenger_handle(&app, cue, token) {
        return None;
    }
    let prefix = &whole.as_str()[..token_match.start() - whole.start()];
    let suffix = &token_match.as_str()[token.len()..];
    Some(format!("{prefix}{HIDDEN}{suffix}"))
}

/// Whether `word` is one of the [`ORDINARY_WORDS`].
fn is_ordinary_word(word: &str) -> bool {
    ORDINARY_WORDS
        .split_ascii_whitespace()
        .any(|ordinary| ordinary.eq_ignore_ascii_case(word))
}

/// Decides whether `token`, found after the messenger name `app` (lower case) and `cue`, is a
/// handle.
fn is_messenger_handle(app: &str, cue: Cue, token: &str) -> bool {
    // A token that already contains `*` was masked by an earlier rule or an earlier run; leaving
    // it alone keeps masking idempotent and keeps a masked phone number's shape.
    if token.is_empty() || token.contains('*') || !token.chars().any(char::is_alphanumeric) {
        return false;
    }
    if looks_like_handle(token) {
        return true;
    }
    let plain_word =
        token.chars().all(|c| c.is_alphabetic() || c == '-') && !is_ordinary_word(token);
    if !plain_word {
        return false;
    }
    // A plain word is a handle after an explicit cue, or after a messenger name that is not also
    // an English word: "snapchat jdoe" is a handle, "line jdoe" may be prose.
    let ambiguous = AMBIGUOUS_APPS.contains(&app);
    cue == Cue::Explicit || !ambiguous
}

/// Whether `token` has a feature that ordinary words lack: `@`, `_` or `#` next to letters, dots
/// between words (`john.doe`), letters mixed with digits (`johnny99`), or seven or more digits.
fn looks_like_handle(token: &str) -> bool {
    if NOT_A_HANDLE.is_match(token) {
        return false;
    }
    let has_letter = token.chars().any(char::is_alphabetic);
    let digits = token.chars().filter(char::is_ascii_digit).count();
    if has_letter && token.contains(['@', '_', '#']) {
        return true;
    }
    // `john.doe` is a handle; `e.g` is an abbreviation, whose parts are single letters.
    let dotted_words = token.contains('.')
        && token.split('.').all(|part| !part.is_empty())
        && token
            .split('.')
            .any(|part| part.chars().filter(|c| c.is_alphabetic()).count() >= 2);
    if dotted_words {
        return true;
    }
    if has_letter && digits > 0 && token.chars().count() >= 4 {
        return true;
    }
    // Seven digits is the shortest phone number; shorter numbers after "line" are line numbers.
    !has_letter && digits >= 7
}
