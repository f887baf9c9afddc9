//! Parsed inputs of virtual numbers: `FriendlyName` and `NumberSearch`, and the
//! `DefaultRegion` national spellings are read in. Each holds only valid values.

use super::{E164, Region};
use crate::error::AppError;

/// A label for a number: 1 to 64 characters once trimmed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FriendlyName(String);

impl FriendlyName {
    /// Reads an optional label: absent, blank or empty means no label.
    pub fn optional(input: Option<&str>) -> Result<Option<Self>, AppError> {
        let Some(name) = input.map(str::trim).filter(|name| !name.is_empty()) else {
            return Ok(None);
        };
        if name.chars().count() > 64 {
            return Err(AppError::bad_input(
                "friendlyName",
                "a friendly name is at most 64 characters",
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(AppError::bad_input(
                "friendlyName",
                "a friendly name may not contain control characters",
            ));
        }
        Ok(Some(FriendlyName(name.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The label as searches compare it: Unicode lower case, worked out here so
    /// that SQLite (whose `lower` knows only ASCII) and PostgreSQL agree.
    pub fn folded(&self) -> String {
        fold(&self.0)
    }
}

/// How names and searches are compared: Unicode lower case.
pub fn fold(text: &str) -> String {
    text.to_lowercase()
}

/// Text to find in a friendly name (any case) or digits in a number; at most 64 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberSearch(String);

impl NumberSearch {
    /// Reads an optional search: absent or blank means no search.
    pub fn optional(input: Option<&str>) -> Result<Option<Self>, AppError> {
        let Some(text) = input.map(str::trim).filter(|text| !text.is_empty()) else {
            return Ok(None);
        };
        if text.chars().count() > 64 || text.chars().any(char::is_control) {
            return Err(AppError::bad_input(
                "search",
                "a search is at most 64 characters, without control characters",
            ));
        }
        Ok(Some(NumberSearch(text.to_owned())))
    }

    /// The search as names are stored for comparison.
    pub fn folded(&self) -> String {
        fold(&self.0)
    }

    /// The digits in the search, to find in numbers.
    pub fn digits(&self) -> String {
        self.0.chars().filter(char::is_ascii_digit).collect()
    }
}

/// The region national spellings are read in, from `DEFAULT_REGION` (none: every
/// number must be international or come with a country).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DefaultRegion(pub Option<Region>);

impl DefaultRegion {
    /// Reads a phone number argument; a bad one is `BAD_USER_INPUT` on `field`.
    pub fn phone(&self, input: &str, field: &'static str) -> Result<E164, AppError> {
        E164::parse(input, self.0).map_err(|error| AppError::bad_input(field, error.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_searches_hold_only_valid_values() {
        assert_eq!(FriendlyName::optional(Some("  ")).unwrap(), None);
        assert_eq!(
            FriendlyName::optional(Some(" Sales ")).unwrap().unwrap().as_str(),
            "Sales"
        );
        assert!(FriendlyName::optional(Some(&"x".repeat(65))).is_err());
        assert!(FriendlyName::optional(Some("a\u{0}b")).is_err());
        assert_eq!(
            FriendlyName::optional(Some("ÉQUIPE Zürich")).unwrap().unwrap().folded(),
            "équipe zürich"
        );
        assert!(NumberSearch::optional(Some("a\u{0}")).is_err());
        assert_eq!(
            NumberSearch::optional(Some(" 415-55 ")).unwrap().unwrap().digits(),
            "41555"
        );
    }
}
