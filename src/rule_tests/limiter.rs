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

/// `RateLimit-Remaining: 0` is explained by our own starts only when they fill the one second up
/// to the request's start; our starts before that second don't count, nor do later ones.
#[test]
fn only_our_starts_in_the_second_before_count() {
    let mut l = Limiter::new(5.0);
    for s in [0, 206_000_000, 412_000_000, 618_000_000] {
        l.started(s);
    }
    l.started(1_500_000_000);
    // In (0.5 s, 1.5 s] we started 2 requests; in the two seconds before, 5.
    assert!(l.exhausted(1_500_000_000, Some(5), 1_600_000_000));
    assert_eq!(l.next_slot(), 2_600_000_000, "held one second from now");

    let mut l = Limiter::new(5.0);
    for s in [
        500_000_001,
        706_000_000,
        912_000_000,
        1_118_000_000,
        1_500_000_000,
    ] {
        l.started(s);
    }
    // Exactly five in (0.5 s, 1.5 s]: ours explain it.
    assert!(!l.exhausted(1_500_000_000, Some(5), 1_600_000_000));
    assert_eq!(l.next_slot(), 1_706_000_000);

    let mut l = Limiter::new(5.0);
    for s in [
        500_000_000,
        706_000_000,
        912_000_000,
        1_118_000_000,
        1_500_000_000,
    ] {
        l.started(s);
    }
    // A start exactly one second earlier is outside the window: four of ours.
    assert!(l.exhausted(1_500_000_000, Some(5), 1_600_000_000));

    let mut l = Limiter::new(5.0);
    for s in [0, 206_000_000, 412_000_000, 618_000_000, 824_000_000] {
        l.started(s);
    }
    // Starts after the request that got the answer don't explain it.
    assert!(l.exhausted(412_000_000, Some(5), 900_000_000));
    // Without a known limit, an empty budget always pauses.
    let mut l = Limiter::new(5.0);
    l.started(0);
    assert!(l.exhausted(0, None, 100));
}

/// Old starts are forgotten only after two seconds: an answer can come back more than a second
/// after its request began, and the starts before that request must still be counted.
#[test]
fn starts_are_remembered_for_two_seconds() {
    let mut l = Limiter::new(5.0);
    for s in [
        100_000_000,
        306_000_000,
        512_000_000,
        718_000_000,
        924_000_000,
    ] {
        l.started(s);
    }
    l.started(2_050_000_000);
    // The answer to the start at 0.924 s arrives at 2.1 s: our five starts explain it.
    assert!(!l.exhausted(924_000_000, Some(5), 2_100_000_000));
    l.started(2_950_000_000);
    // Two seconds after them, those five starts are forgotten: nothing of ours explains it.
    assert!(l.exhausted(924_000_000, Some(5), 3_000_000_000));
}

/// A start exactly two seconds old is still remembered (it may still share a one-second window
/// with the start of a request answered late).
#[test]
fn a_start_exactly_two_seconds_old_is_kept() {
    let mut l = Limiter::new(5.0);
    for s in [0, 100_000_000, 200_000_000, 300_000_000, 400_000_000] {
        l.started(s);
    }
    l.started(2_000_000_000);
    assert!(!l.exhausted(400_000_000, Some(5), 2_100_000_000));
}
