//! Flag lifecycle (docs/lifecycle.md): which flags can go, and what must
//! change to remove them.
//!
//! Each piece of evidence has its own module — the flag's metadata
//! (`expiry`), its git history, flagd's or Prometheus's evaluation counts,
//! the application code's references — and `verdict` weighs them into
//! `remove`, `review` or `keep` with reasons. `flagctl stale` prints that,
//! `flagctl retire` (in `gitops::retire`) acts on it.

pub mod chunks;
pub mod evidence;
pub mod expiry;
pub mod history;
pub mod markdown;
pub mod refs;
pub mod runtime;
pub mod serving;
pub mod stale;
pub mod verdict;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// The calendar day of an instant in UTC: `expires` dates and lifetimes
/// count in UTC days, the same on every machine (docs/lifecycle.md).
pub fn utc_date(at: Timestamp) -> Date {
    at.to_zoned_datetime(TimeZone::UTC).date()
}
