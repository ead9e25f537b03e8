//! Request timestamps: `x-amz-date` in ISO 8601 basic form, `Date` in HTTP (RFC 1123) form.

use std::time::{Duration, SystemTime};

use time::format_description::well_known::Rfc2822;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use super::error::AuthError;

/// `YYYYMMDD'T'HHMMSS'Z'`, the form SigV4 signs.
const AMZ_DATE: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");

/// Parses the ISO 8601 basic form used by `x-amz-date` and `X-Amz-Date`.
pub(crate) fn parse_amz_date(value: &str) -> Option<OffsetDateTime> {
    PrimitiveDateTime::parse(value, AMZ_DATE)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// Parses an HTTP date (`Tue, 27 Mar 2007 19:36:42 +0000` or `... GMT`).
pub(crate) fn parse_http_date(value: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(value.trim(), &Rfc2822).ok()
}

/// Formats `at` the way SigV4 writes timestamps.
pub(crate) fn format_amz_date(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(AMZ_DATE)
        .unwrap_or_default()
}

/// Refuses a request time further than `max_skew` from `now`, in either direction.
pub(crate) fn check_skew(
    at: OffsetDateTime,
    now: SystemTime,
    max_skew: Duration,
) -> Result<(), AuthError> {
    let now = OffsetDateTime::from(now);
    if (now - at).unsigned_abs() > max_skew {
        return Err(AuthError::ClockSkew);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_date_round_trips() {
        let at = parse_amz_date("20130524T000000Z").expect("valid");
        assert_eq!(at.unix_timestamp(), 1_369_353_600);
        assert_eq!(format_amz_date(at), "20130524T000000Z");
        assert!(parse_amz_date("2013-05-24T00:00:00Z").is_none());
        assert!(parse_amz_date("20130524T000000").is_none());
    }

    #[test]
    fn http_dates_parse_with_gmt_or_numeric_zone() {
        let gmt = parse_http_date("Fri, 24 May 2013 00:00:00 GMT").expect("valid");
        assert_eq!(gmt.unix_timestamp(), 1_369_353_600);
        let numeric = parse_http_date("Tue, 27 Mar 2007 19:36:42 +0000").expect("valid");
        assert_eq!(numeric.unix_timestamp(), 1_175_024_202);
        assert!(parse_http_date("yesterday").is_none());
    }

    #[test]
    fn skew_is_checked_both_ways() {
        let at = parse_amz_date("20130524T000000Z").expect("valid");
        let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_369_353_600);
        let max = Duration::from_secs(900);
        assert!(check_skew(at, base + max, max).is_ok());
        assert!(check_skew(at, base - max, max).is_ok());
        let over = max + Duration::from_secs(1);
        assert_eq!(check_skew(at, base + over, max), Err(AuthError::ClockSkew));
        assert_eq!(check_skew(at, base - over, max), Err(AuthError::ClockSkew));
    }
}
