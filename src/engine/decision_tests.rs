use super::*;
use crate::test_support::t;

/// Every decision, its level, whether the summary repeats it, and a word of its message.
#[test]
fn each_decision_has_its_level_and_its_place_in_the_summary() {
    let s = || "tags".to_string();
    #[rustfmt::skip]
    let rows: Vec<(Decision, Level, bool, &str)> = vec![
        (Decision::WaitsForSweep { stream: s(), due: t("2024-03-02T00:00:00Z") }, Level::Info, false, "due after 2024-03-02T00:00:00Z"),
        (Decision::ReadInFullInstead { stream: s(), field: "cdate".into(), why: "w".into(), on: None }, Level::Warn, true, "reading the whole list instead"),
        (Decision::ReadInFullInstead { stream: s(), field: "cdate".into(), why: "w".into(), on: Some("contacts".into()) }, Level::Warn, true, "complete pass of the contacts pages"),
        (Decision::OffsetFallback { stream: s(), why: "w".into() }, Level::Warn, true, "offset paging from the start"),
        (Decision::OneChain { stream: s(), why: "w".into() }, Level::Info, false, "in one chain"),
        (Decision::ReadAgainFrom { stream: s(), offset: 300, from: 199 }, Level::Warn, false, "reading again from offset 199"),
        (Decision::IdsDoNotRise { stream: s() }, Level::Warn, false, "ids do not rise"),
        (Decision::DeletionsHeld { stream: s(), gone: 4, before: 12, why: Held::Guard }, Level::Warn, true, "4 of 12 rows would be deleted"),
        (Decision::DeletionsHeld { stream: s(), gone: 12, before: 12, why: Held::Empty }, Level::Warn, true, "came back empty where the last complete pass had 12 rows"),
        (Decision::NoDeletionsResumed { stream: s() }, Level::Warn, true, "finds no deletions"),
        (Decision::DeletionsUntracked { stream: s(), max_other_ids: 7 }, Level::Warn, true, "more than 7 ids"),
    ];
    for (d, level, held, words) in rows {
        assert_eq!(d.level(), level, "{d:?}");
        assert_eq!(d.holds_back(), held, "{d:?}");
        assert_eq!(d.stream(), "tags");
        let m = d.message();
        assert!(m.starts_with("tags: ") && m.contains(words), "{m}");
    }
}
