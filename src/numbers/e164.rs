//! `E164`: a phone number that libphonenumber's rules (the `phonenumber` crate)
//! have parsed, validated and normalised. Services only ever hold these.

use std::{fmt, str::FromStr};

use phonenumber::{Mode, country};

/// A valid phone number in E.164 form (`+14155550100`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct E164 {
    number: String,
    region: Option<country::Id>,
}

/// Why a spelling is not a phone number; the message is for a person to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidNumber(pub String);

/// An ISO 3166-1 alpha-2 region, such as `US`, that libphonenumber knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region(country::Id);

impl FromStr for Region {
    type Err = InvalidNumber;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        let code = code.trim().to_ascii_uppercase();
        country::Id::from_str(&code).map(Region).map_err(|_| {
            InvalidNumber(format!(
                "`{code}` is not a country code this server knows (use ISO codes such as US or GB)"
            ))
        })
    }
}

impl E164 {
    /// Reads a number written the way people write them: `+1 (415) 555-0100`,
    /// `00 44 20 7946 0958`, or a national spelling with a `region` hint.
    pub fn parse(input: &str, region: Option<Region>) -> Result<Self, InvalidNumber> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(InvalidNumber("a phone number is required".into()));
        }
        if trimmed.len() > 64 {
            return Err(InvalidNumber("that is too long to be a phone number".into()));
        }
        // libphonenumber would read vanity letters (1-800-FLOWERS) as digits; a
        // telephony API stores what carriers dial, so letters are refused outright.
        if trimmed.chars().any(|c| c.is_alphabetic()) {
            return Err(InvalidNumber(
                "a phone number may contain only digits, spaces and + ( ) - . /".into(),
            ));
        }
        let international = trimmed.starts_with('+') || trimmed.starts_with("00");
        if !international && region.is_none() {
            return Err(InvalidNumber(
                "write the number in international form (+14155550100) or give its country".into(),
            ));
        }
        // `00` is the ITU's international prefix; read it as `+` whatever the region.
        let spelled = match trimmed.strip_prefix("00") {
            Some(rest) => format!("+{rest}"),
            None => trimmed.to_owned(),
        };
        let parsed = phonenumber::parse(region.map(|r| r.0), &spelled)
            .map_err(|_| InvalidNumber(format!("`{trimmed}` is not a phone number")))?;
        if !phonenumber::is_valid(&parsed) {
            return Err(InvalidNumber(format!("`{trimmed}` is not a valid phone number")));
        }
        Ok(E164 {
            number: parsed.format().mode(Mode::E164).to_string(),
            region: parsed.country().id(),
        })
    }

    /// A number already in E.164 as stored by this server.
    pub fn as_str(&self) -> &str {
        &self.number
    }

    /// The ISO 3166-1 alpha-2 region the number belongs to, when there is exactly one.
    pub fn country_code(&self) -> Option<String> {
        self.region.map(|id| format!("{id:?}"))
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> Option<Region> {
        Some("us".parse().unwrap())
    }

    #[test]
    fn common_spellings_normalise_to_one_e164() {
        for spelling in [
            "+1 201 555 0123",
            "+1 (201) 555-0123",
            "+12015550123",
            "001 201 555 0123",
            " +1.201.555.0123 ",
        ] {
            assert_eq!(
                E164::parse(spelling, None).unwrap().as_str(),
                "+12015550123",
                "{spelling}"
            );
        }
        for spelling in ["(201) 555-0123", "201-555-0123", "2015550123"] {
            assert_eq!(
                E164::parse(spelling, us()).unwrap().as_str(),
                "+12015550123",
                "{spelling}"
            );
        }
        let london = E164::parse("020 7946 0958", Some("GB".parse().unwrap())).unwrap();
        assert_eq!(london.as_str(), "+442079460958");
        assert_eq!(london.country_code().as_deref(), Some("GB"));
    }

    #[test]
    fn the_country_is_derived() {
        assert_eq!(
            E164::parse("+12015550123", None).unwrap().country_code().as_deref(),
            Some("US")
        );
        assert_eq!(
            E164::parse("+33 1 42 68 53 00", None)
                .unwrap()
                .country_code()
                .as_deref(),
            Some("FR")
        );
    }

    #[test]
    fn non_numbers_are_refused() {
        for bad in [
            "",
            "   ",
            "12345",
            "+1 555",
            "abc",
            "+1 800 FLOWERS",
            "+999 1234 5678",
            "+1234567890123456789",
            "2015550123",
        ] {
            assert!(E164::parse(bad, None).is_err(), "{bad:?} should be refused");
        }
        assert!("ZZ".parse::<Region>().is_err());
    }
}
