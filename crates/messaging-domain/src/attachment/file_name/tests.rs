//! Tests for display names: what a client calls a file is shown only once made safe.

use std::fmt::Debug;

use super::*;

#[track_caller]
fn check<T: PartialEq + Debug>(case: impl Debug, actual: T, expected: T) {
    assert_eq!(actual, expected, "case {case:?}");
}

#[test]
fn file_names_are_sanitised_for_display() {
    let cases = [
        ("../../etc/passwd", FileKind::Txt, "passwd.txt"),
        (
            "..\\..\\windows\\system32\\evil.png",
            FileKind::Png,
            "evil.png",
        ),
        ("report.pdf", FileKind::Pdf, "report.pdf"),
        ("photo.JPEG", FileKind::Jpeg, "photo.jpeg"),
        ("page.html", FileKind::Txt, "page.txt"),
        ("invoice.pdf.exe", FileKind::Pdf, "invoice.pdf.pdf"),
        (".htaccess", FileKind::Txt, "htaccess.txt"),
        ("", FileKind::Png, "attachment.png"),
        ("...", FileKind::Gif, "attachment.gif"),
        ("a\"b;c\r\n<d>.txt", FileKind::Txt, "a_b_c___d_.txt"),
        ("my holiday.png", FileKind::Png, "my holiday.png"),
        ("résumé.docx", FileKind::Docx, "résumé.docx"),
        ("invoice\u{202e}fdp.exe", FileKind::Pdf, "invoice_fdp.pdf"),
        ("tab\there.txt", FileKind::Txt, "tab_here.txt"),
    ];
    for (raw, kind, expected) in cases {
        check(raw, FileName::sanitize(raw, kind).as_str(), expected);
    }
    let long = "é".repeat(300);
    let name = FileName::sanitize(&long, FileKind::Txt);
    check(
        "long names are cut",
        name.as_str().len() <= MAX_FILE_NAME_BYTES,
        true,
    );
    check(
        "long names keep their extension",
        name.as_str().ends_with(".txt"),
        true,
    );
}
