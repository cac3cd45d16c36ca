//! Rules 3 to 5: phone numbers, formatted (`(555) 123-4567`), announced ("my number is
//! 5551234") or spelled out ("five five five one two three four"). Every digit becomes `*` and
//! the separators stay; dates, prices, decimals, ranges and order numbers are left alone.

use std::sync::LazyLock;

use regex::{Captures, Match, Regex};

use super::{
    Replacement, char_after_next, char_at, char_before, constant_regex, second_char_before,
    whole_match,
};

/// The spelled-out digits, in order, so that a word's position is its value.
const DIGIT_WORDS: &[&str] = &[
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];

/// A candidate phone number. Each alternative is deliberately loose; [`mask_phone`] decides.
///
/// - `intl`: a `+` followed by digit groups, optionally with a parenthesised area code.
/// - `paren`: a parenthesised area code followed by a local number, `(555) 123-4567`.
/// - `groups`: digit groups joined by one kind of separator (dash, dot or space). Requiring the
///   same separator throughout stops `2019-2020 555-1234` from being read as one long number.
/// - `run`: ten or more digits in a row.
pub(super) static PHONE: LazyLock<Regex> = LazyLock::new(|| {
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
pub(super) static ANNOUNCED_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
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
pub(super) static SPELLED_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
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

/// Every ASCII digit of `text` replaced by `*`.
fn star_digits(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_digit() { '*' } else { c })
        .collect()
}

/// Rule 3: replaces every digit of a phone number with `*` and keeps the separators, so the shape
/// of the number remains visible.
pub(super) fn mask_phone(whole: Match<'_>, text: &str) -> Option<Replacement> {
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
pub(super) fn mask_announced_number(found: Match<'_>, text: &str) -> Option<Replacement> {
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
pub(super) fn mask_spelled_number(run: Match<'_>, _text: &str) -> Option<Replacement> {
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
