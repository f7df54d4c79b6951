//! The limiter: the safety margin and the one-second window.

use crate::limiter::Limiter;

/// The spacing between starts is 1/rps plus exactly the safety margin (3 %): at 5/s, 206 ms.
#[test]
fn the_spacing_carries_the_safety_margin() {
    assert_eq!(Limiter::new(5.0).interval_ns(), 206_000_000);
    assert_eq!(Limiter::new(1.0).interval_ns(), 1_030_000_000);
    assert_eq!(Limiter::new(0.5).interval_ns(), 2_060_000_000);
    assert_eq!(
        Limiter::new(2.5).interval_ns(),
        515_000_000,
        "2.5/s is 2 whole requests"
    );
    assert_eq!(Limiter::new(f64::NAN).interval_ns(), 1_030_000_000);
    assert_eq!(Limiter::new(0.0).interval_ns(), 1_030_000_000);
    assert_eq!(Limiter::new(-3.0).interval_ns(), 1_030_000_000);
}

/// `RateLimit-Remaining: 0` is explained by our own starts only when they fill the window that
/// counted the request: the second before its arrival, arrivals taken up to 250 ms late. When
/// they don't, starts hold until that window has passed.
#[test]
fn only_our_starts_in_the_window_of_the_request_count() {
    let mut l = Limiter::new(5.0);
    for s in [0, 206_000_000, 412_000_000, 618_000_000, 1_500_000_000] {
        l.started(s);
    }
    // Counted: starts after 0.25 s (1.5 s - 1 s - 250 ms), so 3 of ours, not 5.
    assert!(l.exhausted(1_500_000_000, Some(5), 1_600_000_000));
    assert_eq!(
        l.next_slot(),
        2_750_000_000,
        "held until the window has passed"
    );

    let mut l = Limiter::new(5.0);
    for s in [
        250_000_001,
        500_000_000,
        700_000_000,
        900_000_000,
        1_500_000_000,
    ] {
        l.started(s);
    }
    assert!(
        !l.exhausted(1_500_000_000, Some(5), 1_600_000_000),
        "five of ours"
    );
    let mut l = Limiter::new(5.0);
    for s in [
        250_000_000,
        500_000_000,
        700_000_000,
        900_000_000,
        1_500_000_000,
    ] {
        l.started(s);
    }
    assert!(
        l.exhausted(1_500_000_000, Some(5), 1_600_000_000),
        "the first is outside"
    );

    // An answer that comes back after its window has passed holds nothing.
    let mut l = Limiter::new(5.0);
    l.started(0);
    assert!(!l.exhausted(0, Some(5), 1_250_000_000));
    assert!(l.exhausted(0, Some(5), 1_249_999_999));
    assert_eq!(l.next_slot(), 1_250_000_000);
}

/// Milliseconds in nanoseconds.
const MS: u64 = 1_000_000;

/// Our starts are remembered for 30 s: one exactly 30 s old still counts, one older does not.
#[test]
fn our_starts_are_remembered_for_thirty_seconds() {
    let mut l = Limiter::new(5.0);
    for t in [0, 100 * MS, 200 * MS] {
        l.started(t);
    }
    // A late answer to the start at 0: its window holds our three starts.
    l.started(30_000 * MS);
    assert!(l.own_429(0, Some(3)), "the start at 0 is exactly 30 s old");
    l.started(30_100 * MS);
    assert!(!l.own_429(0, Some(3)), "the start at 0 is forgotten");
    assert!(l.own_429(0, Some(2)), "100 and 200 ms are not");
    // Long after, none of them is left to explain a 429.
    l.started(40_000 * MS);
    assert!(!l.own_429(200 * MS, Some(1)));
}

/// A 429 our own starts explain widens the spacing by one step (4 % of the base spacing, at 5/s
/// 8.24 ms) only when the previous one came fewer than 100 starts before.
#[test]
fn only_a_recurring_own_429_widens_the_spacing_by_one_step() {
    let mut l = Limiter::new(5.0);
    let mut now = 0;
    let mut start = |l: &mut Limiter, n: u64| {
        for _ in 0..n {
            l.started(now);
            now += 206 * MS;
        }
        now - 206 * MS
    };
    let at = start(&mut l, 1);
    assert!(!l.rate_limited(at, Some(1)), "the first one only pauses");
    // Exactly 100 starts later: not recurring.
    let at = start(&mut l, 100);
    assert!(!l.rate_limited(at, Some(1)));
    assert_eq!(l.interval_ns(), 206_000_000);
    // 99 starts later: recurring; the spacing widens by exactly one step.
    let at = start(&mut l, 99);
    assert!(l.rate_limited(at, Some(1)));
    assert_eq!(l.interval_ns(), 206_000_000 + 8_240_000);
    let at = start(&mut l, 1);
    assert!(l.rate_limited(at, Some(1)));
    assert_eq!(l.interval_ns(), 206_000_000 + 2 * 8_240_000);
}
