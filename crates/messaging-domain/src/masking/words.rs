//! The word lists more than one masking rule consults: the top-level domains that make a word a
//! web address (the e-mail and domain rules), and the ordinary words that are never a handle or
//! the name in a spelled-out address (the e-mail and messenger rules).

use std::collections::HashSet;
use std::sync::LazyLock;

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

/// [`TLDS`] sorted, for a binary search (cheaper than hashing, even unoptimised).
static SORTED_TLDS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut sorted = TLDS.to_vec();
    sorted.sort_unstable();
    sorted
});

/// Whether `label` is a top-level domain written as one. A two-letter label in mixed case, such as
/// the `Me` in `like it.Me too` or the `In` in `2010.In the end`, is a missing space after a full
/// stop; longer ones such as `Example.Com` are still domains.
pub(super) fn is_tld(label: &str) -> bool {
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

/// [`ORDINARY_WORDS`] as a set, for lookups in constant time.
static ORDINARY: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| ORDINARY_WORDS.split_ascii_whitespace().collect());

/// Whether `word` is one of the [`ORDINARY_WORDS`], in any case.
pub(super) fn is_ordinary_word(word: &str) -> bool {
    ORDINARY.contains(word.to_lowercase().as_str())
}
