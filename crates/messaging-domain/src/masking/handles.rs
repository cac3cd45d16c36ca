//! Rules 8 and 9: `@handles`, and a handle given after a messenger name ("whatsapp me at
//! johnny99", "my discord is jdoe"). The messenger name stays so that the reader understands what
//! was hidden; ordinary prose after an app name that is also a word ("stand in line") survives.

use std::sync::LazyLock;

use regex::{Captures, Match, Regex};

use super::words::is_ordinary_word;
use super::{HIDDEN, Replacement, char_at, char_before, constant_regex, whole_match};

/// Messenger names that are also ordinary English words. After one of these, only a token that
/// looks like a handle, or a plain word after an explicit cue such as "me at" or "id", is masked:
/// "stand in line for the bus" and "a good signal" must survive.
const AMBIGUOUS_APPS: &[&str] = &["line", "signal", "skype", "discord", "telegram", "snap"];

/// Ambiguous messenger names that "my" does not turn into a cue: "my signal is weak" and "my
/// line is busy" are about reception and telephones, while "my discord is jdoe" gives a handle.
const PROSE_AFTER_MY: &[&str] = &["line", "signal"];

/// A candidate `@handle`; dots and hyphens are allowed inside, as on Instagram and in
/// `@john.doe.com`, which rule 4 leaves to this rule.
pub(super) static HANDLE: LazyLock<Regex> =
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
pub(super) static MESSENGER: LazyLock<Regex> = LazyLock::new(|| {
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

/// Rule 8: `@john_doe` becomes `@***`.
///
/// The `@` must start a word: after a letter, digit or `*` it belongs to an e-mail address, masked
/// or not. The name must end the word too: followed by `*` or `@`, as in `@j***@e***.com`, it is
/// the start of a masked address. A name made only of digits is a time ("see you @3", "@10:30"),
/// not a handle.
pub(super) fn mask_handle(whole: Match<'_>, text: &str) -> Option<Replacement> {
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
    /// "me at", "id", "username", or a link word after "reach me on `<app>`" or "my `<app>`": a
    /// handle is coming.
    Explicit,
    /// A colon, "is", "at", "number", "account": a handle may follow, or ordinary prose.
    Label,
    /// Nothing but spaces.
    Bare,
}

/// Rule 9: after a messenger name, replaces a token that is a handle with `***`, keeping the
/// messenger name and the words that link it to the handle.
pub(super) fn mask_messenger_handle(caps: &Captures<'_>, text: &str) -> Option<Replacement> {
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
pub(super) fn may_end_in_a_handle(found: &str) -> bool {
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
