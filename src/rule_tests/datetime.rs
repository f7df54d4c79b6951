//! Timestamps and offsets.

use crate::datetime::parse_offset;

/// UTC offsets run from -14:00 to +14:00 (Kiribati); anything further is a typo.
#[test]
fn utc_offsets_stop_at_fourteen_hours() {
    assert_eq!(parse_offset("+14:00"), Some(840));
    assert_eq!(parse_offset("-14:00"), Some(-840));
    assert_eq!(parse_offset("+15:00"), None);
    assert_eq!(parse_offset("-23:00"), None);
    assert_eq!(parse_offset("+05:60"), None);
    assert_eq!(parse_offset("+05:59"), Some(359));
    assert_eq!(parse_offset("+0545"), Some(345));
    assert_eq!(parse_offset("-3"), Some(-180));
    assert_eq!(parse_offset("z"), Some(0));
    assert_eq!(parse_offset(""), None);
}
