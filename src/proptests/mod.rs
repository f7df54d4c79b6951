//! Generated-input tests of every parser of outside input: config (every field), Airbyte and
//! Singer catalogs, Airbyte and Singer state, API answers, timestamps, HTTP dates, Retry-After,
//! command lines and URLs.
//!
//! Inputs are built per field from character classes (ASCII digits, signs, separators, letters,
//! multibyte text, controls, JSON punctuation), so a value such as `+1é1` (a digit, a two-byte
//! character, a digit) is as likely as `+05:00`. Where a parser must accept something, an
//! independent rule in `oracle` (written from the documented formats, not from the crate's
//! functions) says what and with which value.
//!
//! Seed: `AC_PROPTEST_SEED` (decimal or 0x-hex) when set, else a new one each run (from the clock),
//! so repeated runs explore new inputs. It is printed at the start of every test (visible with
//! `--nocapture`) and always on failure, with the command that reruns it. `AC_PROPTEST_CASES`
//! changes the number of cases per test (default 12,000).

mod documents;
mod fields;
mod gen;
mod hostile;
mod oracle;
mod structure;
