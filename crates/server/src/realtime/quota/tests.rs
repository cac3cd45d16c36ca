use std::time::{Duration, Instant};

use super::{FrameQuota, Rate, Verdict};

const RATE: Rate = Rate {
    burst: 3,
    per_second: 2,
};

/// Feeds frames at the given milliseconds after the start and checks each verdict.
#[track_caller]
fn check(frames: &[(u64, Verdict)]) {
    let start = Instant::now();
    let mut quota = FrameQuota::new(RATE, start);
    for (i, (ms, expected)) in frames.iter().enumerate() {
        let verdict = quota.take(start + Duration::from_millis(*ms));
        assert_eq!(verdict, *expected, "frame {i} at {ms} ms");
    }
}

#[test]
fn a_burst_passes_then_one_warning_then_silence() {
    use Verdict::{Allow, Drop, DropAndWarn};
    check(&[
        (0, Allow),
        (0, Allow),
        (0, Allow),
        (0, DropAndWarn),
        (0, Drop),
        (100, Drop),
    ]);
}

#[test]
fn the_quota_refills_at_its_rate_and_warns_again_after_a_pass() {
    use Verdict::{Allow, Drop, DropAndWarn};
    check(&[
        (0, Allow),
        (0, Allow),
        (0, Allow),
        (0, DropAndWarn),
        (499, Drop),
        (500, Allow),
        (500, DropAndWarn),
        (1000, Allow),
    ]);
}

#[test]
fn a_long_pause_refills_no_more_than_the_burst() {
    use Verdict::{Allow, DropAndWarn};
    check(&[
        (0, Allow),
        (60_000, Allow),
        (60_000, Allow),
        (60_000, Allow),
        (60_000, DropAndWarn),
    ]);
}
