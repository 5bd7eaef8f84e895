//! Input checks shared by every mutation, each with a message that names the field.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Timelike, Utc};

use crate::error::{AppError, AppResult};

/// The years RFC 3339 can write (four digits, and no year 0).
const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// Trimmed, non-empty, at most `max` characters, no control characters.
pub fn required_line(value: &str, field: &str, max: usize) -> AppResult<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(AppError::bad_input(format!(
            "{field} must be 1 to {max} characters on one line"
        )));
    }
    Ok(value.to_owned())
}

/// Free text (newlines allowed) of at most `max` characters; empty becomes `None`.
pub fn optional_text(value: Option<String>, field: &str, max: usize) -> AppResult<Option<String>> {
    match value {
        Some(text) if text.chars().count() > max => Err(AppError::bad_input(format!(
            "{field} must be at most {max} characters"
        ))),
        Some(text) if text.trim().is_empty() => Ok(None),
        other => Ok(other),
    }
}

/// A whole number within `range`.
pub fn in_range(value: i32, field: &str, range: std::ops::RangeInclusive<i32>) -> AppResult<i32> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(AppError::bad_input(format!(
            "{field} must be between {} and {}",
            range.start(),
            range.end()
        )))
    }
}

/// A moment RFC 3339 can write back: years 1 to 9999. A leap second (`23:59:60`) is stored as
/// the instant after it, as Unix time counts it.
pub fn instant(value: DateTime<Utc>, field: &str) -> AppResult<DateTime<Utc>> {
    let value = match value.nanosecond().checked_sub(1_000_000_000) {
        Some(within_the_leap) => value
            .with_nanosecond(within_the_leap)
            .and_then(|value| value.checked_add_signed(TimeDelta::seconds(1)))
            .ok_or_else(|| out_of_range(field))?,
        None => value,
    };
    if YEARS.contains(&value.year()) {
        Ok(value)
    } else {
        Err(out_of_range(field))
    }
}

/// A date RFC 3339 can write back: years 1 to 9999.
pub fn date(value: NaiveDate, field: &str) -> AppResult<NaiveDate> {
    if YEARS.contains(&value.year()) {
        Ok(value)
    } else {
        Err(out_of_range(field))
    }
}

fn out_of_range(field: &str) -> AppError {
    AppError::bad_input(format!("{field} must be in the years 1 to 9999"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_keep_to_four_digit_years_and_leap_seconds_become_the_next_instant() {
        let parse = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .expect("RFC 3339")
                .with_timezone(&Utc)
        };
        let leap = parse("2016-12-31T23:59:60.250Z");
        assert_eq!(
            instant(leap, "at").unwrap(),
            parse("2017-01-01T00:00:00.250Z")
        );
        let ordinary = parse("2026-12-01T21:38:22.361Z");
        assert_eq!(instant(ordinary, "at").unwrap(), ordinary);
        for text in ["0000-01-01T00:00:00Z", "9999-12-31T23:59:60Z"] {
            assert!(instant(parse(text), "at").is_err(), "{text}");
        }
        let year_zero = NaiveDate::from_ymd_opt(0, 1, 1).unwrap();
        let negative = NaiveDate::from_ymd_opt(-1, 1, 1).unwrap();
        assert!(date(year_zero, "dueOn").is_err());
        assert!(date(negative, "dueOn").is_err());
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(date(today, "dueOn").unwrap(), today);
    }
}
