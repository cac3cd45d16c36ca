//! Tests for the scan state and the pause after failed scans.

use std::fmt::Debug;

use super::*;
use crate::attachment::FileKind;

#[track_caller]
fn check<T: PartialEq + Debug>(case: impl Debug, actual: T, expected: T) {
    assert_eq!(actual, expected, "case {case:?}");
}

#[test]
fn a_file_that_keeps_failing_its_scan_waits_longer_each_time_up_to_an_hour() {
    for (failures, seconds) in [
        (0, 15),
        (1, 15),
        (2, 30),
        (3, 60),
        (8, 1_920),
        (9, 3_600),
        (40, 3_600),
        (u32::MAX, 3_600),
    ] {
        check(
            failures,
            scan_retry_delay(failures),
            chrono::TimeDelta::seconds(seconds),
        );
    }
}

#[test]
fn scan_statuses_round_trip_and_start_by_configuration() {
    for status in [
        ScanStatus::Pending,
        ScanStatus::Clean,
        ScanStatus::Infected,
        ScanStatus::NotScanned,
    ] {
        check(status, ScanStatus::parse(status.as_str()), Some(status));
    }
    check(
        "with scanner",
        ScanStatus::initial(true),
        ScanStatus::Pending,
    );
    check(
        "without",
        ScanStatus::initial(false),
        ScanStatus::NotScanned,
    );
    for kind in FileKind::ALL {
        check(kind, FileKind::from_mime_type(kind.mime_type()), Some(kind));
    }
}
