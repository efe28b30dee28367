//! Instants as users write them: RFC 3339, or a local date-time in an IANA zone.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::fmt::temporal::{Pieces, PiecesOffset};
use jiff::tz::Offset;
use jiff::tz::TimeZone;

use crate::diagnostic::did_you_mean;

/// A time zone by IANA name, with a suggestion when the name is unknown.
pub fn zone(name: &str) -> Result<TimeZone, (String, Option<String>)> {
    TimeZone::get(name).map_err(|_| {
        let names: Vec<String> = jiff::tz::db().available().map(|n| n.to_string()).collect();
        (
            format!("unknown time zone `{name}`"),
            did_you_mean(name, names.iter().map(String::as_str))
                .or_else(|| Some("use an IANA name such as `Europe/Berlin` or `UTC`".into())),
        )
    })
}

/// Parses `text` as an instant. RFC 3339 with an offset stands on its own; a
/// local date-time (or date, meaning midnight) needs `zone`.
pub fn instant(text: &str, zone: Option<&TimeZone>) -> Result<Timestamp, String> {
    if let Some(ts) = with_offset(text) {
        return Ok(ts);
    }
    let local = text
        .parse::<DateTime>()
        .or_else(|_| text.parse::<Date>().map(|d| d.to_datetime(jiff::civil::Time::midnight())))
        .map_err(|_| {
            format!("`{text}` is not a time: write RFC 3339 (2025-12-01T00:00:00Z) or a local time with a `timezone`")
        })?;
    let zone = zone.ok_or_else(|| {
        format!("local time `{text}` needs a `timezone` (or an offset, as in {local}Z)")
    })?;
    zone.to_ambiguous_timestamp(local)
        .compatible()
        .map_err(|e| {
            format!(
                "`{text}` does not exist in {}: {e}",
                zone.iana_name().unwrap_or("that zone")
            )
        })
}

/// An instant written with an offset (RFC 3339). Its whole range counts:
/// years 0000 to 9999 — but jiff's `Timestamp` ends about a day before
/// 9999-12-31T23:59:59Z, so the instants past it (all of them "never" to a
/// flag) are clamped to its last one rather than refused.
fn with_offset(text: &str) -> Option<Timestamp> {
    let pieces = Pieces::parse(text).ok()?;
    let offset = match pieces.offset()? {
        PiecesOffset::Zulu => Offset::UTC,
        PiecesOffset::Numeric(n) => n.offset(),
        _ => return None,
    };
    let civil = pieces.date().to_datetime(pieces.time().unwrap_or_default());
    Some(offset.to_timestamp(civil).unwrap_or(if civil.year() > 0 {
        Timestamp::MAX
    } else {
        Timestamp::MIN
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_and_local() {
        let ny = zone("America/New_York").unwrap();
        let a = instant("2025-12-01T00:00:00", Some(&ny)).unwrap();
        assert_eq!(a, "2025-12-01T05:00:00Z".parse::<Timestamp>().unwrap());
        let b = instant("2025-07-01", Some(&ny)).unwrap();
        assert_eq!(b, "2025-07-01T04:00:00Z".parse::<Timestamp>().unwrap());
        assert_eq!(
            instant("2025-12-01T00:00:00+01:00", None).unwrap(),
            "2025-11-30T23:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert!(
            instant("2025-12-01T00:00:00", None)
                .unwrap_err()
                .contains("needs a `timezone`")
        );
        assert!(instant("tomorrow", Some(&ny)).is_err());
    }

    #[test]
    fn the_whole_rfc3339_range() {
        assert_eq!(instant("9999-12-31T23:59:59Z", None), Ok(Timestamp::MAX));
        assert_eq!(
            instant("9999-12-31T23:59:59+01:00", None),
            Ok(Timestamp::MAX)
        );
        assert_eq!(
            instant("0000-01-01T00:00:00Z", None).unwrap().to_string(),
            "0000-01-01T00:00:00Z"
        );
        // Inside jiff's range nothing is clamped.
        let late = instant("9999-12-30T00:00:00Z", None).unwrap();
        assert!(late < Timestamp::MAX);
        assert!(instant("9999-13-01T00:00:00Z", None).is_err());
    }

    #[test]
    fn unknown_zone_suggests() {
        let (msg, hint) = zone("America/New_Yrok").unwrap_err();
        assert_eq!(msg, "unknown time zone `America/New_Yrok`");
        assert_eq!(hint.as_deref(), Some("did you mean `America/New_York`?"));
    }
}
