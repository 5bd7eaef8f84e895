//! Input checks shared by every mutation, each with a message that names the field.

use crate::error::{AppError, AppResult};

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
