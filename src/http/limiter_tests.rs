use super::*;

fn simulate(rps: f64, n: usize) -> Vec<u64> {
    let mut l = Limiter::new(rps);
    let mut now = 0;
    let mut starts = vec![];
    for _ in 0..n {
        now = now.max(l.next_slot());
        l.started(now);
        starts.push(now);
    }
    starts
}

#[test]
fn never_more_than_rps_in_any_second() {
    for rps in [1.0, 2.5, 5.0, 10.0, 50.0] {
        let starts = simulate(rps, 500);
        assert!(
            max_in_window(&starts, SECOND) <= rps.floor() as usize,
            "rps {rps}"
        );
    }
}

#[test]
fn close_to_the_rate() {
    let starts = simulate(5.0, 101);
    let span = (starts[100] - starts[0]) as f64 / 1e9;
    let achieved = 100.0 / span;
    // 5/s less the 3 % safety margin is 4.85/s; without the margin it would be 5.0.
    assert!(achieved > 4.8 && achieved < 4.9, "{achieved}");
}

#[test]
fn pause_holds_starts() {
    let mut l = Limiter::new(5.0);
    l.started(0);
    l.pause_until(5 * SECOND);
    assert_eq!(l.next_slot(), 5 * SECOND);
    l.pause_until(SECOND);
    assert_eq!(l.next_slot(), 5 * SECOND);
}

#[test]
fn remaining_zero_pauses_only_for_other_clients() {
    let mut l = Limiter::new(5.0);
    for i in 0..5 {
        l.started(i * 206_000_000);
    }
    // Our five starts explain the empty budget: no pause.
    assert!(!l.exhausted(4 * 206_000_000, Some(5), 1_000_000_000));
    // Someone else used it: after only two of ours, the server says none are left. Starts
    // hold until the window that counted the request has passed, not a second from now.
    let mut l = Limiter::new(5.0);
    l.started(0);
    l.started(206_000_000);
    assert!(l.exhausted(206_000_000, Some(5), 300_000_000));
    assert_eq!(
        l.next_slot(),
        206_000_000 + ARRIVAL_SLACK_NS + SECOND,
        "held until the window ends"
    );
    // Without a RateLimit-Limit header, our own rate is the limit.
    let mut l = Limiter::new(5.0);
    l.started(0);
    assert!(l.exhausted(0, None, 10_000_000));
}

#[test]
fn a_slow_answer_never_stalls_a_run_within_budget() {
    // Full speed with answers taking 1.3 s: every `RateLimit-Remaining: 0` is read long
    // after its start. Our starts must still explain it (the old rule forgot starts older
    // than 2 s before the latest one and paused a second each time).
    let mut l = Limiter::new(5.0);
    let mut now = 0;
    let mut starts = vec![];
    for i in 0..400 {
        now = now.max(l.next_slot());
        l.started(now);
        starts.push(now);
        // The answer to the request begun 7 starts ago comes back now, with Remaining: 0.
        if i >= 7 {
            assert!(!l.exhausted(starts[i - 7], Some(5), now), "paused at {i}");
        }
    }
    let span = (starts[399] - starts[0]) as f64 / 1e9;
    assert!(399.0 / span > 4.8, "{}", 399.0 / span);
    // An answer arriving after its window has passed holds nothing, even from others.
    let mut l = Limiter::new(5.0);
    l.started(0);
    assert!(!l.exhausted(0, Some(5), 2 * SECOND));
    assert_eq!(l.next_slot(), l.interval_ns());
}

#[test]
fn our_own_429s_widen_the_spacing_and_a_long_clean_run_narrows_it() {
    let mut l = Limiter::new(5.0);
    let base = l.interval_ns();
    let mut now = 0;
    for _ in 0..6 {
        now = now.max(l.next_slot());
        l.started(now);
    }
    // A lone 429 only pauses; a second one soon after widens.
    assert!(!l.rate_limited(now, Some(5)));
    assert_eq!(l.interval_ns(), base);
    assert!(l.rate_limited(now, Some(5)));
    assert!(l.interval_ns() > base);
    // Bounded, however many 429s.
    for _ in 0..100 {
        l.rate_limited(now, Some(5));
    }
    assert_eq!(l.interval_ns(), (base as f64 * MAX_WIDEN) as u64);
    // Back to the base after enough clean starts, never below it.
    for _ in 0..(NARROW_AFTER * 40) {
        now = now.max(l.next_slot());
        l.started(now);
    }
    assert_eq!(l.interval_ns(), base);
    // A 429 when we had started only one request is someone else's: no widening.
    let mut l = Limiter::new(5.0);
    l.started(0);
    assert!(!l.rate_limited(0, Some(5)));
    assert!(!l.rate_limited(0, Some(5)));
    assert_eq!(l.interval_ns(), base);
    // Own 429s far apart (moments of host load) never widen it.
    let mut l = Limiter::new(5.0);
    let mut now = 0;
    for i in 0..1000 {
        now = now.max(l.next_slot());
        l.started(now);
        if i % 150 == 149 {
            assert!(!l.rate_limited(now, Some(5)), "widened at {i}");
        }
    }
    assert_eq!(l.interval_ns(), base);
}

/// Arrivals lag starts by a random 0–150 ms (a new connection per request): with the
/// spacing learned from 429s, the server's count per second settles under the limit.
#[test]
fn learned_spacing_absorbs_arrival_jitter() {
    let mut l = Limiter::new(5.0);
    let mut rng = 42u64;
    let mut now = 0;
    let mut arrivals: Vec<u64> = vec![];
    let mut rejected_at = vec![];
    for i in 0..3000 {
        now = now.max(l.next_slot());
        l.started(now);
        let lag = crate::http::retry::next_random(&mut rng) % 150_000_001;
        let a = now + lag;
        // The server's count: arrivals within the second before this one, itself included.
        let in_window = arrivals
            .iter()
            .filter(|&&x| x + SECOND > a && x <= a)
            .count()
            + 1;
        arrivals.push(a);
        if in_window > 5 {
            rejected_at.push(i);
            l.rate_limited(now, Some(5));
            l.pause_until(now + SECOND);
        }
    }
    let late = rejected_at.iter().filter(|&&i| i >= 1000).count();
    assert!(!rejected_at.is_empty(), "jitter does cause 429s at first");
    assert!(late <= 2, "{late} 429s in the last 2000 requests");
}

#[test]
fn window_counting() {
    assert_eq!(max_in_window(&[0, 100, 999, 1000, 1001], 1000), 4);
    assert_eq!(max_in_window(&[0, 1000, 2000], 1000), 1);
    assert_eq!(max_in_window(&[], 1000), 0);
}

/// The limiter: the safety margin and the one-second window.
mod boundaries {
    use crate::http::limiter::Limiter;

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
}
