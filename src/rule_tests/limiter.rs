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
