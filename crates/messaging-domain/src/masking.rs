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
//! Cost is linear in the text. Each rule is one left-to-right pass ([`apply`]): a candidate is
//! either replaced or skipped, and the search goes on after it, so no part of the text is searched
//! again by the same rule, nothing recurses, and no pattern reads an unbounded stretch beyond what
//! its rule consumes (a domain's path, which may be long, is taken by hand and only once the domain
//! is being masked). `cargo xtask bench mask` compares adversarial inputs with ordinary prose.
//!
//! Masking is idempotent: masking an already masked text changes nothing, so a body that is edited
//! and masked again keeps the same shape.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::{Captures, Match, Regex};

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
const AMBIGUOUS_APPS: &[&str] = &["line", "signal", "skype", "discord", "telegram", "snap"];

/// Ambiguous messenger names that "my" does not turn into a cue: "my signal is weak" and "my
/// line is busy" are about reception and telephones, while "my discord is jdoe" gives a handle.
const PROSE_AFTER_MY: &[&str] = &["line", "signal"];

/// Words that are never a handle, even right after a messenger name: "whatsapp me on monday",
/// "instagram is great", "my snapchat account". They are also never the name of a spelled-out
/// e-mail address ("look at this dot com"). Separated by spaces and compared ignoring case; see
/// [`is_ordinary_word`].
const ORDINARY_WORDS: &str = concat!(
    // Function words.
    "a about after again all also always am an and any anymore anyone anything anytime anyway ",
    "are around as at away back be because been before between both but by can cannot could ",
    "did didn do does doesn don during each either else even ever every for from had has have ",
    "he her here him his how i if in instead into is isn it its just like maybe me more most ",
    "much my never no not now of off ok okay on once only or other our out over please rather ",
    "really she should since so some still than thanks that the their them then there these ",
    "they this those though through to too until up us very via was wasn we well were what when ",
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
    "optional needed same different correct invalid private public hidden unknown weak strong ",
    "busy full dead off ",
    // Messenger names, so that "signal me on whatsapp" is left alone.
    "whatsapp telegram skype signal snapchat snap instagram insta discord wechat viber line kik ",
    "facebook tiktok threema zoom email text",
);

/// The spelled-out digits, in order, so that a word's position is its value.
const DIGIT_WORDS: &[&str] = &[
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];

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

/// An e-mail address. `*` is accepted in both parts so that an already masked address
/// (`j***@e***.com`) is recognised and rewritten to itself rather than picked apart by later rules.
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
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
static SPELLED_EMAIL: LazyLock<Regex> = LazyLock::new(|| {
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

/// A candidate phone number. Each alternative is deliberately loose; [`mask_phone`] decides.
///
/// - `intl`: a `+` followed by digit groups, optionally with a parenthesised area code.
/// - `paren`: a parenthesised area code followed by a local number, `(555) 123-4567`.
/// - `groups`: digit groups joined by one kind of separator (dash, dot or space). Requiring the
///   same separator throughout stops `2019-2020 555-1234` from being read as one long number.
/// - `run`: ten or more digits in a row.
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    constant_regex(concat!(
        // intl
        r"\+[0-9]{1,4}(?:[ .-]?\([0-9]{1,5}\))?(?:[ .-]?[0-9]{1,5}){1,6}",
        // paren
        r"|\([0-9]{2,5}\) ?[0-9]{3,4}[ .-]?[0-9]{3,5}",
        // groups
        r"|(?-u:\b)[0-9]{1,5}(?:-[0-9]{2,8}){1,5}(?-u:\b)",
        r"|(?-u:\b)[0-9]{1,5}(?:\.[0-9]{2,8}){1,5}(?-u:\b)",
        r"|(?-u:\b)[0-9]{1,5}(?: [0-9]{2,8}){1,5}(?-u:\b)",
        // run
        r"|(?-u:\b)[0-9]{10,}(?-u:\b)",
    ))
});

/// A number announced as a phone number: "my number is 5551234", "phone: 1234567", "call me on
/// 5551234". The announcement makes a seven-digit run a phone number, which on its own it is not
/// (an order number, a price).
static ANNOUNCED_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    constant_regex(concat!(
        r"(?i)(?-u:\b)(?:(?:my|our)[ \t]+(?:(?:phone|mobile|cell|cellphone|home|work|whatsapp|contact)[ \t]+)?",
        r"(?:number|no\.?|num|#)",
        r"|(?:phone|mobile|cell|cellphone|tel|telephone)(?:[ \t]+(?:number|no\.?|num|#))?",
        r"|(?:call|text|ring|phone|sms)[ \t]+(?:me|us)(?:[ \t]+(?:on|at))?)",
        r"(?:[ \t]*[:=#][ \t]*|[ \t]+is[ \t]*:?[ \t]*|[ \t]+)",
        r"\+?[0-9](?:[ .()/-]?[0-9])*",
    ))
});

/// A run of numbers, at least one of them possibly spelled out: "five five five one two three
/// four", "555 one two three four", "5 5 5 1 2 3 4". [`mask_spelled_number`] decides.
static SPELLED_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    let item = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|[0-9]+)(?-u:\b)";
    constant_regex(&format!(
        r"(?i)(?-u:\b){item}(?:(?:[ \t]*[,.-][ \t]*|[ \t]+){item})+"
    ))
});

/// One item of a [`SPELLED_NUMBER`] run.
static NUMBER_ITEM: LazyLock<Regex> = LazyLock::new(|| {
    constant_regex(
        r"(?i)(?-u:\b)(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|[0-9]+)(?-u:\b)",
    )
});

/// An `http://` or `https://` link, up to the next whitespace or quote.
static LINK: LazyLock<Regex> =
    LazyLock::new(|| constant_regex(r#"(?i)(?-u:\b)https?://[^\s<>"]+"#));

/// A candidate bare domain: dot-separated labels. Whether it stands alone as a word and whether
/// the last label is a real TLD is decided by [`mask_domain`], which also takes the port and the
/// path that follow.
static DOMAIN: LazyLock<Regex> = LazyLock::new(|| {
    // Label lengths (at most 63) are checked by the rule: a counted repetition here multiplies
    // the states the lazy DFA needs on a long word until it gives up for the slow engine.
    constant_regex(r"(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?\.)+\p{L}{2,24}")
});

/// A candidate `@handle`; dots and hyphens are allowed inside, as on Instagram and in
/// `@john.doe.com`, which rule 4 leaves to this rule.
static HANDLE: LazyLock<Regex> =
    LazyLock::new(|| constant_regex(r"@[\p{L}\p{N}_](?:[\p{L}\p{N}_.-]*[\p{L}\p{N}_])?"));

/// A messenger name, what links it to the handle, and the token that may be the handle.
///
/// The link is captured in one of three groups, tried in this order:
/// - `cue`: "me at", "me on", "id", "handle", "username": the writer is about to give a handle.
/// - `label`: a colon, "is", "at", "on", "via", "number", "account" and the like: a handle often
///   follows, but so does ordinary prose ("the line is long", "a signal at the station").
/// - `bare`: only spaces.
///
/// Separators are spaces and tabs, never line breaks, so that a messenger name ending one line is
/// not joined to the first word of the next.
static MESSENGER: LazyLock<Regex> = LazyLock::new(|| {
    constant_regex(concat!(
        r"(?i)(?-u:\b)(?P<app>whats ?app|telegram|skype|signal|snap ?chat|snap|instagram|insta|discord",
        r"|we ?chat|viber|line|kik|facebook|fb|tiktok|threema)(?-u:\b)",
        r"(?:(?P<cue>[ \t]+(?:me|us)[ \t]+(?:(?:at|on|via)[ \t]+|@[ \t]*)",
        r"|[ \t]+(?:id|handle|username|user ?name)(?:[ \t]*:[ \t]*|[ \t]+is(?:[ \t]*:[ \t]*|[ \t]+)|[ \t]+))",
        r"|(?P<label>[ \t]*:[ \t]*",
        r"|[ \t]+(?:number|no\.|num|account|acc|name|user|contact)(?:[ \t]*:[ \t]*|[ \t]+is(?:[ \t]*:[ \t]*|[ \t]+)|[ \t]+)",
        r"|[ \t]+(?:is|at|on|via|as)(?:[ \t]*:[ \t]*|[ \t]+))",
        r"|(?P<bare>[ \t]+(?:me|us)[ \t]+|[ \t]+))",
        r"(?P<token>[\p{L}\p{N}_*#@][\p{L}\p{N}_*#@.-]*)",
    ))
});

/// What may come just before a messenger name and make the words after it a cue: "reach me on
/// whatsapp at ...", "message us via telegram: ...", "my discord is ...". Matched against the end
/// of the text before the name.
static BEFORE_APP: LazyLock<Regex> = LazyLock::new(|| {
    constant_regex(
        r"(?i)(?:(?-u:\b)(?P<me>(?:me|us)[ \t]+(?:on|via|at|in))|(?-u:\b)(?P<my>my|our))[ \t]+$",
    )
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

/// [`TLDS`] sorted, for a binary search (cheaper than hashing, even unoptimised).
static SORTED_TLDS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut sorted = TLDS.to_vec();
    sorted.sort_unstable();
    sorted
});

/// [`ORDINARY_WORDS`] as a set, for lookups in constant time.
static ORDINARY: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| ORDINARY_WORDS.split_ascii_whitespace().collect());

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

/// Every ASCII digit of `text` replaced by `*`.
fn star_digits(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_digit() { '*' } else { c })
        .collect()
}

/// Rule 1: `john@example.com` becomes `j***@e***.com`. Only the first character of each part and
/// the last domain label survive, which is enough for the reader to see that an address was
/// shared and not enough to use it.
fn mask_email(found: Match<'_>, _text: &str) -> Option<Replacement> {
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
fn mask_spelled_email(caps: &Captures<'_>, _text: &str) -> Option<Replacement> {
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
fn ends_in_a_tld(found: &str) -> bool {
    let letters = found
        .bytes()
        .rev()
        .take_while(u8::is_ascii_alphabetic)
        .count();
    is_tld(&found[found.len() - letters..])
}

/// Rule 3: replaces every digit of a phone number with `*` and keeps the separators, so the shape
/// of the number remains visible.
fn mask_phone(whole: Match<'_>, text: &str) -> Option<Replacement> {
    if is_part_of_a_larger_number(text, whole.start(), whole.end()) {
        return None;
    }
    let candidate = whole.as_str();
    let digits = candidate.chars().filter(char::is_ascii_digit).count();
    // Which alternative of the pattern matched shows in the candidate itself: `intl` starts with
    // `+`, `paren` with `(`, `groups` has separators and `run` has none.
    let is_phone = if candidate.starts_with(['+', '(']) {
        (7..=15).contains(&digits)
    } else if digits < candidate.len() {
        is_phone_shaped_groups(candidate)
    } else {
        // A run of ten or more digits is too long for a price, a date or an order number that a
        // person would type, and is exactly the shape of a phone number written without spaces.
        true
    };
    is_phone.then(|| Replacement {
        start: whole.start(),
        end: whole.end(),
        with: star_digits(candidate),
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

/// Rule 4: after "my number is", "phone:" or "call me on", seven to fifteen digits are a phone
/// number whatever their grouping.
fn mask_announced_number(found: Match<'_>, text: &str) -> Option<Replacement> {
    // The announcement holds no digit, so the number starts at the first one (or at the `+`
    // before it) and runs to the end of the match.
    let first_digit = found.as_str().find(|c: char| c.is_ascii_digit())?;
    let plus = usize::from(found.as_str()[..first_digit].ends_with('+'));
    let start = found.start() + first_digit - plus;
    let number = &text[start..found.end()];
    let digits = number.chars().filter(char::is_ascii_digit).count();
    if !(7..=15).contains(&digits) || is_part_of_a_larger_number(text, start, found.end()) {
        return None;
    }
    Some(Replacement {
        start,
        end: found.end(),
        with: star_digits(number),
    })
}

/// Rule 5: a run of digits and digit words that holds a phone number's worth of digits, written so
/// that the phone rule cannot see it. Each digit word becomes `*`, each digit `*`.
fn mask_spelled_number(run: Match<'_>, _text: &str) -> Option<Replacement> {
    let mut digits = 0;
    let mut words = 0;
    // The value of each item, when every item is a single digit (for the counting check).
    let mut values: Option<Vec<usize>> = Some(Vec::new());
    for item in NUMBER_ITEM.find_iter(run.as_str()) {
        let item = item.as_str();
        let value = if item.bytes().all(|b| b.is_ascii_digit()) {
            digits += item.len();
            (item.len() == 1).then(|| usize::from(item.as_bytes()[0] - b'0'))
        } else {
            digits += 1;
            words += 1;
            let lower = item.to_ascii_lowercase();
            Some(if lower == "oh" {
                0
            } else {
                DIGIT_WORDS.iter().position(|w| *w == lower)?
            })
        };
        match (&mut values, value) {
            (Some(list), Some(v)) => list.push(v),
            _ => values = None,
        }
        // More digits than any phone number has: a long list of numbers, not worth reading on.
        if digits > 15 {
            return None;
        }
    }
    if digits < 7 {
        return None;
    }
    // Without a word, only single digits spaced out ("5 5 5 1 2 3 4") evade the phone rule;
    // longer groups are dates, lists and amounts that rule 3 has already judged.
    if words == 0 && values.as_ref().is_none_or(|v| v.len() < 7) {
        return None;
    }
    let counting = values.is_some_and(|v| {
        v.windows(2).all(|w| w[1] == w[0] + 1) || v.windows(2).all(|w| w[0] == w[1] + 1)
    });
    if counting {
        return None;
    }
    let with = NUMBER_ITEM.replace_all(run.as_str(), |c: &Captures<'_>| {
        let item = c.get(0).map_or("", |m| m.as_str());
        if item.bytes().all(|b| b.is_ascii_digit()) {
            star_digits(item)
        } else {
            "*".to_owned()
        }
    });
    whole_match(run, with.into_owned())
}

/// Rule 6: replaces an `http(s)://` link, leaving out sentence punctuation that follows it and a
/// closing parenthesis that does not belong to it, as in "(see `https://example.com`)".
fn mask_link(link: Match<'_>, _text: &str) -> Option<Replacement> {
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

/// Whether `label` is a top-level domain written as one. A two-letter label in mixed case, such as
/// the `Me` in `like it.Me too` or the `In` in `2010.In the end`, is a missing space after a full
/// stop; longer ones such as `Example.Com` are still domains.
fn is_tld(label: &str) -> bool {
    // No top-level domain here is longer than seven letters, and all are ASCII.
    let mut lower = [0u8; 7];
    let Some(lower) = lower.get_mut(..label.len()) else {
        return false;
    };
    if label.len() < 2 || !label.is_ascii() {
        return false;
    }
    lower.copy_from_slice(label.as_bytes());
    let mixed_case =
        lower.iter().any(u8::is_ascii_lowercase) && lower.iter().any(u8::is_ascii_uppercase);
    if mixed_case && label.len() == 2 {
        return false;
    }
    lower.make_ascii_lowercase();
    std::str::from_utf8(lower).is_ok_and(|l| SORTED_TLDS.binary_search(&l).is_ok())
}

/// Rule 7: replaces a bare domain such as `example.com`, `www.x.co.uk` or `my-site.io/path`,
/// with its port and path.
///
/// When the candidate runs on past the domain, as in `example.com.Thanks` (a missing space after
/// a full stop), the longest leading part that ends in a real TLD is masked and the search goes on
/// after it.
fn mask_domain(whole: Match<'_>, text: &str) -> Option<Replacement> {
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

/// Rule 8: `@john_doe` becomes `@***`.
///
/// The `@` must start a word: after a letter, digit or `*` it belongs to an e-mail address, masked
/// or not. The name must end the word too: followed by `*` or `@`, as in `@j***@e***.com`, it is
/// the start of a masked address. A name made only of digits is a time ("see you @3", "@10:30"),
/// not a handle.
fn mask_handle(whole: Match<'_>, text: &str) -> Option<Replacement> {
    let starts_word = char_before(text, whole.start()).is_none_or(|c| {
        !(c.is_alphanumeric() || matches!(c, '_' | '*' | '.' | '-' | '+' | '@' | '/'))
    });
    let ends_word = !matches!(char_at(text, whole.end()), Some('*' | '@'));
    if !(starts_word && ends_word) {
        return None;
    }
    let name = &whole.as_str()[1..];
    if name.chars().all(|c| c.is_ascii_digit()) || NOT_A_HANDLE.is_match(name) {
        return None;
    }
    whole_match(whole, format!("@{HIDDEN}"))
}

/// How strongly the words around a messenger name announce a handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cue {
    /// "me at", "id", "username", or a link word after "reach me on <app>" or "my <app>": a
    /// handle is coming.
    Explicit,
    /// A colon, "is", "at", "number", "account": a handle may follow, or ordinary prose.
    Label,
    /// Nothing but spaces.
    Bare,
}

/// Rule 9: after a messenger name, replaces a token that is a handle with `***`, keeping the
/// messenger name and the words that link it to the handle.
fn mask_messenger_handle(caps: &Captures<'_>, text: &str) -> Option<Replacement> {
    let app_match = caps.name("app")?;
    let token_match = caps.name("token")?;
    let app = app_match.as_str().to_lowercase();
    let cue = if caps.name("cue").is_some() {
        Cue::Explicit
    } else if caps.name("label").is_some() {
        // "Reach me on whatsapp at jdoe", "my telegram is jdoe": what comes before the name
        // shows that the words after it introduce a handle.
        match announced_before(text, app_match.start()) {
            Some(Announcement::MeOn) => Cue::Explicit,
            Some(Announcement::My) if !PROSE_AFTER_MY.contains(&app.as_str()) => Cue::Explicit,
            _ => Cue::Label,
        }
    } else {
        Cue::Bare
    };
    // Sentence punctuation after the token ("skype john.doe.") is not part of the handle.
    let token = token_match.as_str().trim_end_matches(['.', '-']);
    if !is_messenger_handle(&app, cue, token) {
        return None;
    }
    Some(Replacement {
        start: token_match.start(),
        end: token_match.start() + token.len(),
        with: HIDDEN.to_owned(),
    })
}

/// Whether a [`MESSENGER`] match may end in a handle. Its last word, when made of letters only,
/// is the whole token, and an ordinary word is never a handle: "line is line is ..." is ruled
/// out here without the pattern's groups.
fn may_end_in_a_handle(found: &str) -> bool {
    let last = found
        .rsplit([' ', '\t', ':'])
        .next()
        .unwrap_or(found)
        .trim_end_matches(['.', '-']);
    !(last.chars().all(char::is_alphabetic) && is_ordinary_word(last))
}

/// What the words just before a messenger name say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Announcement {
    /// "me on", "us via", "me at": the writer names where to reach them.
    MeOn,
    /// "my", "our": the writer names their own account.
    My,
}

/// Looks at the few words before byte offset `start` (a messenger name) for an announcement.
fn announced_before(text: &str, start: usize) -> Option<Announcement> {
    // "us via" and its spaces fit in 24 bytes; looking no further keeps this constant-time.
    let mut from = start.saturating_sub(24);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let caps = BEFORE_APP.captures_at(&text[..start], from)?;
    if caps.name("me").is_some() {
        Some(Announcement::MeOn)
    } else {
        Some(Announcement::My)
    }
}

/// Whether `word` is one of the [`ORDINARY_WORDS`], in any case.
fn is_ordinary_word(word: &str) -> bool {
    ORDINARY.contains(word.to_lowercase().as_str())
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
