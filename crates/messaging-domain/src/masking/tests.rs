//! Table-driven tests for [`mask_pii`]. Every case goes through [`check`], and every expected
//! output is checked again as an input, so that masking is shown to be idempotent.

#![allow(clippy::expect_used)]

use super::mask_pii;

/// Asserts that masking `input` gives exactly `expected`.
#[track_caller]
fn check(input: &str, expected: &str) {
    assert_eq!(mask_pii(input), expected, "masking {input:?}");
}

/// Shorthand for a placeholder the tables use often.
const LINK: &str = "[external link removed]";

const EMAILS: &[(&str, &str)] = &[
    ("john@example.com", "j***@e***.com"),
    (
        "Mail a.b@mail.example.co.uk today",
        "Mail a***@m***.uk today",
    ),
    (
        "Write to Jane.Doe+tutor@Gmail.com.",
        "Write to J***@G***.com.",
    ),
    (
        "emails: x1@a.io, y2@b.org",
        "emails: x***@a***.io, y***@b***.org",
    ),
    ("tutor99@school.edu", "t***@s***.edu"),
];

/// Addresses written so that a filter looking for `@` and `.` misses them.
const SPELLED_EMAILS: &[(&str, &str)] = &[
    ("john at example dot com", "j*** at e*** dot com"),
    ("john [at] example [dot] com", "j*** [at] e*** [dot] com"),
    ("john(at)example(dot)com", "j***(at)e***(dot)com"),
    ("JOHN AT EXAMPLE DOT COM", "J*** AT E*** DOT COM"),
    (
        "write to john {at} example {dot} org",
        "write to j*** {at} e*** {dot} org",
    ),
    (
        "mail john.smith at gmail dot co dot uk",
        "mail j*** at g*** dot uk",
    ),
    ("john at example.com", "j*** at e***.com"),
    ("john@example dot com", "j***@e*** dot com"),
    ("john @ example.com", "j*** @ e***.com"),
    (
        "john < at > example < dot > net",
        "j*** < at > e*** < dot > net",
    ),
];

const PHONES: &[(&str, &str)] = &[
    ("Call 555-1234 tonight", "Call ***-**** tonight"),
    ("+44 20 7946 0958", "+** ** **** ****"),
    ("(555) 123-4567", "(***) ***-****"),
    ("555.123.4567", "***.***.****"),
    ("5551234567", "**********"),
    ("+1-800-555-0199", "+*-***-***-****"),
    ("+1 (555) 123-4567", "+* (***) ***-****"),
    ("07700 900123", "***** ******"),
    (
        "my number is 1-800-555-1234.",
        "my number is *-***-***-****.",
    ),
    ("+33 6 12 34 56 78", "+** * ** ** ** **"),
    ("06 12 34 56 78", "** ** ** ** **"),
    (
        "I was there 2019-2020, call 555-1234",
        "I was there 2019-2020, call ***-****",
    ),
    ("tel:+15551234567", "tel:+***********"),
    ("Account 12345678901234", "Account **************"),
];

/// Numbers announced as phone numbers, and numbers spelled out so that the phone rule misses them.
const ANNOUNCED_AND_SPELLED_NUMBERS: &[(&str, &str)] = &[
    ("my number is 5551234", "my number is *******"),
    ("My phone number: 5551234.", "My phone number: *******."),
    ("phone: 1234567", "phone: *******"),
    ("Tel 0123456", "Tel *******"),
    (
        "call me on 5551234 after six",
        "call me on ******* after six",
    ),
    ("text me at 0770090012", "text me at **********"),
    (
        "my number is five five five one two three four",
        "my number is * * * * * * *",
    ),
    (
        "call me at five five five, one two three four",
        "call me at * * *, * * * *",
    ),
    ("it's 555 one two three four", "it's *** * * * *"),
    ("Five-five-five-one-two-three-four", "*-*-*-*-*-*-*"),
    (
        "zero seven seven oh oh nine one two three",
        "* * * * * * * * *",
    ),
    ("5 5 5 1 2 3 4", "* * * * * * *"),
];

const LINKS: &[(&str, &str)] = &[
    (
        "see https://example.com/path?q=1 now",
        "see [external link removed] now",
    ),
    ("(http://foo.org/a)", "([external link removed])"),
    ("HTTPS://EXAMPLE.COM", LINK),
    (
        "https://en.wikipedia.org/wiki/Rust_(language).",
        "[external link removed].",
    ),
];

const DOMAINS: &[(&str, &str)] = &[
    ("example.com", LINK),
    ("visit www.x.co.uk!", "visit [external link removed]!"),
    ("my-site.io/path", LINK),
    ("Go to example.com.", "Go to [external link removed]."),
    ("bit.ly/abc123", LINK),
    ("example.com.Thanks", "[external link removed].Thanks"),
    ("MYSITE.NET:8080/x", LINK),
    (
        "visit Example.Com or github.io/user",
        "visit [external link removed] or [external link removed]",
    ),
];

const HANDLES: &[(&str, &str)] = &[
    ("@john_doe", "@***"),
    ("ask @jane.smith, thanks", "ask @***, thanks"),
    ("(@tutor_99)", "(@***)"),
    ("find me @john.doe.com", "find me @***"),
];

const MESSENGERS: &[(&str, &str)] = &[
    ("whatsapp me at johnny99", "whatsapp me at ***"),
    ("telegram: @jd", "telegram: @***"),
    ("skype john.doe", "skype ***"),
    ("signal me on 07700900123", "signal me on ***********"),
    ("snapchat jdoe", "snapchat ***"),
    ("instagram jdoe", "instagram ***"),
    ("discord jd#1234", "discord ***"),
    ("wechat xyz", "wechat ***"),
    ("viber: mike_t", "viber: ***"),
    ("line id jdoe", "line id ***"),
    ("kik jdoe99", "kik ***"),
    ("Add me on WhatsApp: johnny", "Add me on WhatsApp: ***"),
    ("my Skype ID is john.smith.", "my Skype ID is ***."),
    ("whatsapp me at 1234567", "whatsapp me at ***"),
    ("Telegram handle: jd_tutor", "Telegram handle: ***"),
    ("my snapchat is jdoe!", "my snapchat is ***!"),
    (
        "whatsapp me at john@example.com",
        "whatsapp me at j***@e***.com",
    ),
    (
        "ask on telegram @jd_99 or insta jd.art",
        "ask on telegram @*** or insta ***",
    ),
    // "on", "via" and "at" between the app and the handle, the way people write it.
    (
        "Reach me on whatsapp at johnny99",
        "Reach me on whatsapp at ***",
    ),
    ("whatsapp at johnny99", "whatsapp at ***"),
    ("find me on telegram at jdoe", "find me on telegram at ***"),
    ("message me via signal: jdoe", "message me via signal: ***"),
    ("add me on skype at jsmith_77", "add me on skype at ***"),
    ("I'm on snapchat as jdoe", "I'm on snapchat as ***"),
    ("ping us on discord at jdoe", "ping us on discord at ***"),
    ("snap me at jdoe", "snap me at ***"),
    (
        "Follow me on instagram at jane.art",
        "Follow me on instagram at ***",
    ),
    // "my <app>" announces the writer's own account.
    ("my discord is jdoe", "my discord is ***"),
    ("my telegram: jdoe", "my telegram: ***"),
    ("My Skype is john.smith", "My Skype is ***"),
    ("my instagram is jdoe.art!", "my instagram is ***!"),
    ("our signal is jdoe99", "our signal is ***"),
    ("facebook: jane.doe.77", "facebook: ***"),
    ("tiktok jdoe", "tiktok ***"),
    (
        "text me on signal at 07700 900123",
        "text me on signal at ***** ******",
    ),
];

const MIXED: &[(&str, &str)] = &[
    (
        "Grüße 👋\nmail: jörg@beispiel.de\nTel: +49 30 1234567",
        "Grüße 👋\nmail: j***@b***.de\nTel: +** ** *******",
    ),
    (
        "Hi!\r\n\tCall (555) 123-4567 or see example.org — ok?",
        "Hi!\r\n\tCall (***) ***-**** or see [external link removed] — ok?",
    ),
    (
        "Already masked: j***@e***.com, ***-****, @***",
        "Already masked: j***@e***.com, ***-****, @***",
    ),
];

/// Texts that look a little like contact details but are not, and must come back unchanged.
const UNCHANGED: &[&str] = &[
    "Please read notes.pdf before class",
    "homework.docx",
    "photo.JPG",
    "report_v2.xlsx",
    "main.rs and index.html",
    "See chapter3.md, script.py and app.js",
    "It costs $1,234.56 or €45",
    "Total: 1234.50",
    "Exam on 2025-10-21 or 21/10/2025 or 10.21.2025",
    "Meet at 10:30, or 2pm, or 14:00-15:30",
    "Upgrade to v1.2.3 (2.0.1 works too)",
    "Order 1234567 has shipped",
    "Scored 87.5% in 2024",
    "Pi is 3.14159265358979",
    "between 1000-2000 words, $500-1000 budget",
    "Rooms 101 102 103, population 1 234 567",
    "Read lines 10-20 of the poem on line 5",
    "stand in line for the bus",
    "that is a good signal",
    "the line between them",
    "We can skype later",
    "text me when you arrive",
    "whatsapp me at 5pm",
    "whatsapp me on monday",
    "message me on whatsapp",
    "Instagram is great for art",
    "The telegram arrived today",
    "there was discord between them",
    "Signal: weak today",
    "e.g. this, i.e. that, at 9 a.m.",
    "Use ASP.NET and Node.js",
    "I like it.Me too",
    "see you @3 or @10:30",
    "we met in 2010.In the end",
    "whatsapp me at 10:30 tomorrow",
    "The Line ID is missing",
    "he stood in line 2 hours",
    "Price: 1.234.567,89 EUR, range 1,000-2,000",
    "Case #1234567",
    "Lotto numbers 12 34 56 78, years 1999 2000 2001",
    // Spelled-out e-mail look-alikes in prose.
    "look at this dot com bubble",
    "we met at the dot com boom",
    "I was at home. Com and see",
    "see you at john's place, dot the i's",
    // Counting, and numbers that are not announced as phone numbers.
    "one, two, three, four, five, six, seven, eight",
    "Count down: ten nine eight seven six five four three two one",
    "Scores: 3 1 4 1 5 9",
    "I have 2 kids, one 5 and one 7",
    "my order number is 1234567",
    "ticket number 1234567, phone later",
    "call me at 10:30 or at 5pm",
    "the phone costs 1234.56",
    // Messenger names in prose, with the new link words.
    "the signal at the station was weak",
    "my signal is weak today",
    "my line is busy",
    "call me on line two",
    "Stand on line at Brixton",
    "whatsapp on monday works",
    "I use signal as well",
    "oh snap, that is late",
    // Display names as people type them.
    "Jean-Luc O'Brien",
    "María José de la Cruz",
    "Anne-Marie St. John",
    "Dr. Li Wei",
    "Zoë Ångström",
    "Mary Line",
    "Sam Signal",
];

#[test]
fn emails_keep_first_letters_and_tld() {
    for (input, expected) in EMAILS {
        check(input, expected);
    }
}

#[test]
fn spelled_out_emails_are_masked_like_written_ones() {
    for (input, expected) in SPELLED_EMAILS {
        check(input, expected);
    }
}

#[test]
fn announced_and_spelled_out_phone_numbers_are_masked() {
    for (input, expected) in ANNOUNCED_AND_SPELLED_NUMBERS {
        check(input, expected);
    }
}

#[test]
fn phone_digits_become_stars_and_separators_stay() {
    for (input, expected) in PHONES {
        check(input, expected);
    }
}

#[test]
fn http_links_are_removed() {
    for (input, expected) in LINKS {
        check(input, expected);
    }
}

#[test]
fn bare_domains_with_real_tlds_are_removed() {
    for (input, expected) in DOMAINS {
        check(input, expected);
    }
}

#[test]
fn at_handles_are_hidden() {
    for (input, expected) in HANDLES {
        check(input, expected);
    }
}

#[test]
fn messenger_handles_are_hidden_and_the_app_name_stays() {
    for (input, expected) in MESSENGERS {
        check(input, expected);
    }
}

#[test]
fn line_breaks_unicode_and_punctuation_survive() {
    for (input, expected) in MIXED {
        check(input, expected);
    }
}

#[test]
fn ordinary_text_that_resembles_contact_details_is_not_masked() {
    for text in UNCHANGED {
        check(text, text);
    }
}

#[test]
fn file_names_are_not_domains() {
    let extensions = [
        "pdf", "doc", "docx", "txt", "csv", "jpg", "jpeg", "png", "gif", "webp", "zip", "rs", "py",
        "js", "ts", "html", "htm", "md", "xlsx", "xls", "pptx", "ppt", "odt", "rtf", "mp3", "mp4",
        "mov", "wav", "svg", "json", "xml", "yaml", "toml", "sh", "exe", "java", "kt", "cpp", "go",
        "rb", "php", "pl", "swift", "cs", "css", "sql", "ipynb", "tex", "ai", "psd", "key",
        "pages", "heic", "gz", "tar", "ics",
    ];
    for extension in extensions {
        let text = format!(
            "see notes.{extension} and Notes.{}",
            extension.to_uppercase()
        );
        check(&text, &text);
    }
}

#[test]
fn masking_twice_changes_nothing() {
    let pairs = [
        EMAILS,
        SPELLED_EMAILS,
        PHONES,
        ANNOUNCED_AND_SPELLED_NUMBERS,
        LINKS,
        DOMAINS,
        HANDLES,
        MESSENGERS,
        MIXED,
    ];
    for (_, expected) in pairs.into_iter().flatten() {
        check(expected, expected);
    }
}

/// Inputs that made the old masking re-search the rest of the text at every match, or recurse once
/// per match: each is repeated up to the longest body allowed.
const ADVERSARIAL_UNITS: &[&str] = &[
    "@a.co/",
    "a.com.pdf/",
    "http://x.co/",
    "x@a.co.",
    "1-2-3-4-",
    "a.",
    "whatsapp me at @",
    "john at example dot ",
    "five ",
    ").",
];

#[test]
fn the_longest_adversarial_bodies_are_masked_without_a_deep_stack() {
    // Compile the patterns on this thread, so the small stack below only has to hold the masking.
    let _ = mask_pii("warm up");
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            for unit in ADVERSARIAL_UNITS {
                let text: String = unit
                    .chars()
                    .cycle()
                    .take(crate::text::ABSOLUTE_MAX_BODY_CHARS)
                    .collect();
                let masked = mask_pii(&text);
                // Masked once, the text is stable: the rules reached a fixed point in one pass.
                assert_eq!(mask_pii(&masked), masked, "masking {unit:?} repeated");
            }
        })
        .expect("spawn a thread");
    assert!(handle.join().is_ok(), "masking overflowed a 256 KiB stack");
}

#[test]
fn a_domain_after_an_at_sign_is_left_to_the_handle_rule_however_often_it_repeats() {
    check("@a.co/@a.co/@a.co/", "@***/@a.co/@a.co/");
    check(
        "a.com.pdf/a.com.pdf/",
        "[external link removed].pdf/[external link removed].pdf/",
    );
}
