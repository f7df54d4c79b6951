//! Whole reads through `engine::read` (or `connector::read`) against a scripted server, one file
//! per behaviour. Helpers live in `crate::test_support`.

mod churn_and_quirks;
mod cursor_fallbacks;
mod cursors_and_zones;
mod custom_columns;
mod deletions;
mod failures;
mod ignored_includes;
mod joined_columns;
mod newest_first;
mod odd_shapes;
mod offset_repairs;
mod paging;
mod planning;
mod reporting;
mod retries_and_rate;
