//! Table-driven tests for the validated input types. Every assertion goes through [`check`].

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Debug;

use super::*;

/// Asserts that `actual` equals `expected`, naming the case on failure.
#[track_caller]
fn check<T: PartialEq + Debug>(case: impl Debug, actual: T, expected: T) {
    assert_eq!(actual, expected, "case {case:?}");
}

fn text(raw: &str) -> MessageText {
    MessageText::parse(raw).unwrap()
}

fn page(number: i64, size: i64) -> Page {
    Page {
        number: PageNumber::parse(Some(number)).unwrap(),
        size: PageSize::parse(Some(size), LimitSpec::THREADS).unwrap(),
    }
}

fn too_long(field: &'static str, max: usize) -> ValidationError {
    ValidationError::TooLong { field, max }
}

fn out_of_range(field: &'static str, min: i64, max: i64) -> ValidationError {
    ValidationError::OutOfRange { field, min, max }
}

// --- clean_multiline / clean_single_line -------------------------------------------------------

#[test]
fn multiline_cleaning_trims_and_drops_control_characters_but_keeps_line_breaks_and_tabs() {
    let cases = [
        ("  hello  ", "hello"),
        ("\n\n hello \r\n", "hello"),
        ("line one\nline two", "line one\nline two"),
        ("windows\r\nline", "windows\r\nline"),
        ("col\tcol", "col\tcol"),
        ("inner   spaces  kept", "inner   spaces  kept"),
        ("nul\u{0}byte", "nulbyte"),
        ("\u{7}bell and \u{1b}[31mescape", "bell and [31mescape"),
        ("next\u{85}line\u{7f}", "nextline"),
        ("\u{0}\u{1}\u{2}", ""),
        ("héllo wörld ✓", "héllo wörld ✓"),
    ];
    for (raw, expected) in cases {
        check(raw, clean_multiline(raw), expected.to_owned());
    }
}

#[test]
fn single_line_cleaning_turns_every_control_character_into_a_space_and_trims() {
    let cases = [
        ("  subject  ", "subject"),
        ("two\nlines", "two lines"),
        ("crlf\r\nline", "crlf  line"),
        ("tab\there", "tab here"),
        ("\u{0}edge\u{0}", "edge"),
        ("\n\t\r", ""),
        ("bell\u{7}inside", "bell inside"),
        ("café ✓", "café ✓"),
    ];
    for (raw, expected) in cases {
        check(raw, clean_single_line(raw), expected.to_owned());
    }
}

// --- MessageText ---------------------------------------------------------------------------------

#[test]
fn message_text_is_cleaned_and_must_be_non_empty_and_at_most_ten_thousand_characters() {
    let at_limit = "x".repeat(ABSOLUTE_MAX_BODY_CHARS);
    let over_limit = "x".repeat(ABSOLUTE_MAX_BODY_CHARS + 1);
    let padded_at_limit = format!("  \n{at_limit}\n  ");
    // Ten thousand two-byte characters: the limit counts characters, not bytes.
    let multibyte_at_limit = "é".repeat(ABSOLUTE_MAX_BODY_CHARS);
    let multibyte_over_limit = "é".repeat(ABSOLUTE_MAX_BODY_CHARS + 1);
    let empty = ValidationError::Empty { field: "message" };
    let cases: Vec<(&str, Result<&str, ValidationError>)> = vec![
        ("", Err(empty.clone())),
        ("   \n\t  ", Err(empty.clone())),
        ("\u{0}\u{7}", Err(empty)),
        ("  hi\u{0} there \n", Ok("hi there")),
        ("a\nb", Ok("a\nb")),
        (&at_limit, Ok(&at_limit)),
        // The limit counts what was sent, so that it is the one the API's schema states.
        (
            &padded_at_limit,
            Err(too_long("message", ABSOLUTE_MAX_BODY_CHARS)),
        ),
        (&multibyte_at_limit, Ok(&multibyte_at_limit)),
        (
            &over_limit,
            Err(too_long("message", ABSOLUTE_MAX_BODY_CHARS)),
        ),
        (
            &multibyte_over_limit,
            Err(too_long("message", ABSOLUTE_MAX_BODY_CHARS)),
        ),
    ];
    for (raw, expected) in cases {
        let actual = MessageText::parse(raw).map(MessageText::into_inner);
        let case: String = raw.chars().take(20).collect();
        check(case, actual, expected.map(str::to_owned));
    }
}

#[test]
fn message_text_errors_name_the_field_the_caller_asked_for() {
    check(
        "empty content",
        MessageText::parse_field(" ", "content"),
        Err(ValidationError::Empty { field: "content" }),
    );
    check(
        "long content",
        MessageText::parse_field(&"y".repeat(10_001), "content"),
        Err(too_long("content", 10_000)),
    );
}

#[test]
fn message_text_counts_its_length_in_characters() {
    let cases = [("hello", 5), ("héllo", 5), ("日本語", 3), ("a\nb", 3)];
    for (raw, expected) in cases {
        let parsed = text(raw);
        check(raw, parsed.char_len(), expected);
        check(raw, parsed.as_str(), raw);
    }
}

// --- BodyPolicy ----------------------------------------------------------------------------------

#[test]
fn default_body_policy_gives_each_role_its_limit() {
    let policy = BodyPolicy::default();
    let cases = [
        (Role::Student, 2_000),
        (Role::Tutor, 2_000),
        (Role::Patient, 10_000),
        (Role::Clinician, 10_000),
        (Role::Admin, 10_000),
    ];
    for (role, expected) in cases {
        check(role, policy.max_for(role), expected);
    }
}

#[test]
fn no_policy_can_raise_a_role_above_the_absolute_limit() {
    let generous = BodyPolicy {
        tutoring_max: 50_000,
        patient_max: 20_000,
        staff_max: usize::MAX,
    };
    for role in Role::ALL {
        check(role, generous.max_for(role), ABSOLUTE_MAX_BODY_CHARS);
    }
    let strict = BodyPolicy {
        tutoring_max: 10,
        patient_max: 20,
        staff_max: 30,
    };
    let cases = [
        (Role::Student, 10),
        (Role::Tutor, 10),
        (Role::Patient, 20),
        (Role::Clinician, 30),
        (Role::Admin, 30),
    ];
    for (role, expected) in cases {
        check(role, strict.max_for(role), expected);
    }
}

#[test]
fn body_policy_accepts_a_body_at_the_role_limit_and_refuses_one_character_more() {
    let policy = BodyPolicy::default();
    let cases = [
        (Role::Student, 2_000, Ok(())),
        (Role::Student, 2_001, Err(too_long("message", 2_000))),
        (Role::Tutor, 2_001, Err(too_long("message", 2_000))),
        (Role::Patient, 2_001, Ok(())),
        (Role::Patient, 5_001, Ok(())),
        (Role::Patient, 10_000, Ok(())),
        (Role::Clinician, 5_001, Ok(())),
        (Role::Clinician, 10_000, Ok(())),
        (Role::Admin, 10_000, Ok(())),
    ];
    for (role, len, expected) in cases {
        let body = text(&"z".repeat(len));
        check((role, len), policy.check(role, &body, "message"), expected);
    }
}

#[test]
fn body_policy_counts_characters_and_names_the_given_field() {
    let policy = BodyPolicy::default();
    // Two thousand three-byte characters are within a student's limit.
    let wide = text(&"語".repeat(2_000));
    check(
        "2000 wide chars",
        policy.check(Role::Student, &wide, "content"),
        Ok(()),
    );
    let wider = text(&"語".repeat(2_001));
    check(
        "2001 wide chars",
        policy.check(Role::Student, &wider, "content"),
        Err(too_long("content", 2_000)),
    );
}

// --- Subject -------------------------------------------------------------------------------------

#[test]
fn subject_is_one_cleaned_line_empty_means_none_and_at_most_255_characters() {
    let at_limit = "s".repeat(MAX_SUBJECT_CHARS);
    let wide_at_limit = "é".repeat(MAX_SUBJECT_CHARS);
    let over_limit = "s".repeat(MAX_SUBJECT_CHARS + 1);
    let padded_at_limit = format!(" {at_limit}");
    let cases: Vec<(&str, Result<Option<&str>, ValidationError>)> = vec![
        (
            &padded_at_limit,
            Err(too_long("subject", MAX_SUBJECT_CHARS)),
        ),
        ("", Ok(None)),
        ("   ", Ok(None)),
        ("\n\t\u{0}", Ok(None)),
        ("  Lesson plan ", Ok(Some("Lesson plan"))),
        ("Two\nlines", Ok(Some("Two lines"))),
        (&at_limit, Ok(Some(&at_limit))),
        (&wide_at_limit, Ok(Some(&wide_at_limit))),
        (&over_limit, Err(too_long("subject", MAX_SUBJECT_CHARS))),
    ];
    for (raw, expected) in cases {
        let actual = Subject::parse(raw).map(|s| s.map(|s| s.as_str().to_owned()));
        let case: String = raw.chars().take(20).collect();
        check(case, actual, expected.map(|s| s.map(str::to_owned)));
    }
}

#[test]
fn reply_subject_is_prefixed_once_with_re_and_defaults_to_no_subject() {
    let long_parent = "p".repeat(MAX_SUBJECT_CHARS);
    let long_reply = format!("Re: {}", "p".repeat(MAX_SUBJECT_CHARS - 4));
    let cases: Vec<(Option<&str>, &str)> = vec![
        (Some("Lesson plan"), "Re: Lesson plan"),
        (None, "Re: No Subject"),
        (Some("Re: Lesson plan"), "Re: Lesson plan"),
        (Some("Re: Re: Lesson plan"), "Re: Re: Lesson plan"),
        (Some("Résumé"), "Re: Résumé"),
        (Some(&long_parent), &long_reply),
    ];
    for (parent, expected) in cases {
        let reply = Subject::reply_to(parent);
        check(parent.map(|p| p.len()), reply.as_str(), expected);
        check(
            "reply fits the subject limit",
            reply.as_str().chars().count() <= MAX_SUBJECT_CHARS,
            true,
        );
    }
}

// --- SearchQuery ---------------------------------------------------------------------------------

#[test]
fn search_query_is_cleaned_to_one_line_of_two_to_two_hundred_characters() {
    let at_limit = "q".repeat(MAX_QUERY_CHARS);
    let over_limit = "q".repeat(MAX_QUERY_CHARS + 1);
    let padded_at_limit = format!("{at_limit} ");
    let too_short = ValidationError::TooShort { field: "q", min: 2 };
    let cases: Vec<(&str, Result<&str, ValidationError>)> = vec![
        (&padded_at_limit, Err(too_long("q", MAX_QUERY_CHARS))),
        ("", Err(too_short.clone())),
        ("a", Err(too_short.clone())),
        ("  a \n", Err(too_short)),
        ("ab", Ok("ab")),
        ("  math  ", Ok("math")),
        ("two\nlines", Ok("two lines")),
        ("é日", Ok("é日")),
        (&at_limit, Ok(&at_limit)),
        (&over_limit, Err(too_long("q", MAX_QUERY_CHARS))),
    ];
    for (raw, expected) in cases {
        let actual = SearchQuery::parse(raw).map(|q| q.as_str().to_owned());
        let case: String = raw.chars().take(20).collect();
        check(case, actual, expected.map(str::to_owned));
    }
}

#[test]
fn search_terms_are_lower_cased_runs_of_letters_and_digits_without_any_syntax() {
    let cases: &[(&str, &[&str])] = &[
        ("Algebra homework", &["algebra", "homework"]),
        ("Hello, World!", &["hello", "world"]),
        ("C++ AND title:x", &["c", "and", "title", "x"]),
        ("\"exact phrase\" -not", &["exact", "phrase", "not"]),
        ("foo_bar-baz.qux", &["foo", "bar", "baz", "qux"]),
        ("ÉCOLE naïve café", &["école", "naïve", "café"]),
        ("room 101b", &["room", "101b"]),
        ("!!", &[]),
        ("*:*", &[]),
    ];
    for (raw, expected) in cases {
        let query = SearchQuery::parse(raw).unwrap();
        let expected: Vec<String> = expected.iter().map(|t| (*t).to_owned()).collect();
        check(raw, query.terms(), expected);
    }
}

#[test]
fn message_words_split_at_anything_but_letters_and_digits_and_are_cut_to_the_word_limit() {
    let long = "y".repeat(MAX_WORD_CHARS + 10);
    let cut = "y".repeat(MAX_WORD_CHARS);
    let cases: Vec<(Option<&str>, &str, String)> = vec![
        (None, "SECRET-27993725", "secret 27993725".to_owned()),
        (
            Some("Budget"),
            "Q1 budget, v2.0!",
            "budget q1 budget v2 0".to_owned(),
        ),
        (None, "room101 3.14", "room101 3 14".to_owned()),
        (None, "Ünïcode ÉCOLE", "ünïcode école".to_owned()),
        (None, "  ...  ", String::new()),
        (None, &long, cut),
    ];
    for (subject, body, expected) in cases {
        check(body, message_words(subject, body), expected);
    }
}

// --- PageSize / LimitSpec ------------------------------------------------------------------------

#[test]
fn limit_specs_have_the_documented_bounds_and_defaults() {
    let cases = [
        (LimitSpec::THREADS, ("limit", 1, 200, 100)),
        (LimitSpec::HISTORY, ("page_size", 1, 100, 50)),
        (LimitSpec::SEARCH, ("page_size", 1, 50, 20)),
        (LimitSpec::INBOX, ("limit", 1, 50, 20)),
        (LimitSpec::CONVERSATION, ("limit", 1, 200, 50)),
    ];
    for (spec, expected) in cases {
        check(
            spec.field,
            (spec.field, spec.min, spec.max, spec.default),
            expected,
        );
    }
}

#[test]
fn page_size_accepts_its_bounds_defaults_when_absent_and_refuses_anything_outside() {
    let specs = [
        LimitSpec::THREADS,
        LimitSpec::HISTORY,
        LimitSpec::SEARCH,
        LimitSpec::INBOX,
        LimitSpec::CONVERSATION,
    ];
    for spec in specs {
        let min = i64::from(spec.min);
        let max = i64::from(spec.max);
        let refused = Err(out_of_range(spec.field, min, max));
        let cases = [
            (None, Ok(spec.default)),
            (Some(min), Ok(spec.min)),
            (Some(max), Ok(spec.max)),
            (Some(min - 1), refused.clone()),
            (Some(max + 1), refused.clone()),
            (Some(-1), refused.clone()),
            (Some(i64::MAX), refused.clone()),
            (Some(i64::MIN), refused.clone()),
            (Some(i64::from(u32::MAX) + 1), refused),
        ];
        for (value, expected) in cases {
            check(
                (spec.field, spec.max, value),
                PageSize::parse(value, spec).map(PageSize::get),
                expected,
            );
        }
    }
}

#[test]
fn lenient_page_size_falls_back_to_the_default_instead_of_refusing() {
    let spec = LimitSpec::INBOX;
    let cases = [
        (None, 20),
        (Some(0), 20),
        (Some(-5), 20),
        (Some(51), 20),
        (Some(i64::MAX), 20),
        (Some(1), 1),
        (Some(7), 7),
        (Some(50), 50),
    ];
    for (value, expected) in cases {
        check(value, PageSize::or_default(value, spec).get(), expected);
    }
}

// --- PageNumber / Page ---------------------------------------------------------------------------

#[test]
fn page_number_is_one_based_capped_at_ten_thousand_and_defaults_to_the_first_page() {
    let refused = Err(out_of_range("page", 1, 10_000));
    let cases = [
        (None, Ok(1)),
        (Some(1), Ok(1)),
        (Some(2), Ok(2)),
        (Some(10_000), Ok(10_000)),
        (Some(0), refused.clone()),
        (Some(-1), refused.clone()),
        (Some(10_001), refused.clone()),
        (Some(i64::MAX), refused.clone()),
        (Some(i64::MIN), refused),
    ];
    for (value, expected) in cases {
        check(
            value,
            PageNumber::parse(value).map(PageNumber::get),
            expected,
        );
    }
    check("first", PageNumber::first().get(), 1);
}

#[test]
fn page_offset_skips_the_items_of_every_earlier_page() {
    let cases = [
        ((1, 20), (0, 20)),
        ((2, 20), (20, 20)),
        ((3, 50), (100, 50)),
        ((1, 1), (0, 1)),
        ((10_000, 200), (1_999_800, 200)),
    ];
    for ((number, size), expected) in cases {
        let page = page(number, size);
        check((number, size), (page.offset(), page.limit()), expected);
    }
    let first = Page {
        number: PageNumber::first(),
        size: PageSize::or_default(None, LimitSpec::HISTORY),
    };
    check("first default", (first.offset(), first.limit()), (0, 50));
}
