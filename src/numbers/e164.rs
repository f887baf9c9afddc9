//! `E164`: a phone number that Google's libphonenumber rules (the `rlibphonenumber`
//! crate) have read, validated and normalised, and the `Region` hint it is read in.
//! How spellings are read lives in `spelling`; display types in `display`.

use std::{fmt, hash, str::FromStr};

use rlibphonenumber::{NumberLengthType, PHONE_NUMBER_UTIL, PhoneNumber, ValidationError};

use super::{
    display::{NumberFormat, PhoneNumberType},
    spelling,
};

/// A valid phone number in E.164 form (`+14155550100`). Equality is the E.164 string.
#[derive(Debug, Clone)]
pub struct E164 {
    number: String,
    region: Option<rlibphonenumber::Region>,
    parsed: PhoneNumber,
}

/// Why a spelling is not a phone number; the message is for a person to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidNumber(pub String);

/// An ISO 3166-1 alpha-2 region, such as `US`, that libphonenumber has numbering data for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Region(rlibphonenumber::Region);

impl FromStr for Region {
    type Err = InvalidNumber;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        let code = code.trim().to_ascii_uppercase();
        // The crate's `Region` has a variant for every pair of letters (and `001`
        // for non-geographic numbers), so a code is known only if it has metadata.
        rlibphonenumber::Region::from_code(&code)
            .ok()
            .filter(|region| *region != rlibphonenumber::Region::World)
            .filter(|region| PHONE_NUMBER_UTIL.get_country_code_for_region(*region).is_some())
            .map(Region)
            .ok_or_else(|| {
                InvalidNumber(format!(
                    "`{code}` is not a country code this server knows (use ISO codes such as US or GB)"
                ))
            })
    }
}

impl Region {
    pub(super) fn library(self) -> rlibphonenumber::Region {
        self.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl E164 {
    /// Reads a number written the way people and carriers write it: `+1 (415) 555-0100`,
    /// `tel:+1-415-555-0100`, or a national spelling or one dialled with the
    /// region's international prefix (`011 44 …` from the US) given a `region`
    /// hint. A number with its own `+` country code is never changed by the hint.
    /// Extensions and vanity letters are refused with a message saying why.
    pub fn parse(input: &str, region: Option<Region>) -> Result<Self, InvalidNumber> {
        let reading = spelling::read(input, region)?;
        if let Some(extension) = &reading.extension {
            return Err(InvalidNumber(format!(
                "`{}` ends in an extension ({extension}), and numbers here have no extension: \
                 give the number alone",
                input.trim()
            )));
        }
        if !PHONE_NUMBER_UTIL.is_valid_number(&reading.number) {
            return Err(why_invalid(input.trim(), &reading.number));
        }
        Ok(E164::from_valid(&reading.number))
    }

    /// Wraps a number libphonenumber has judged valid, keeping only what defines it.
    pub(super) fn from_valid(number: &PhoneNumber) -> Self {
        let mut parsed = number.clone();
        parsed.extension = None;
        parsed.raw_input = None;
        parsed.country_code_source = None;
        parsed.preferred_domestic_carrier_code = None;
        let number = PHONE_NUMBER_UTIL
            .format(&parsed, rlibphonenumber::PhoneNumberFormat::E164)
            .into_owned();
        let region = PHONE_NUMBER_UTIL
            .get_region_for_number(&parsed)
            .filter(|region| *region != rlibphonenumber::Region::World);
        E164 { number, region, parsed }
    }

    /// A number already in E.164 as stored by this server.
    pub fn as_str(&self) -> &str {
        &self.number
    }

    /// The ISO 3166-1 alpha-2 region the number belongs to, when it belongs to one
    /// (international services such as `+800` belong to none).
    pub fn country_code(&self) -> Option<String> {
        self.region.map(|region| region.to_string())
    }

    /// The region the number belongs to, as a hint for reading other numbers
    /// (a call's counterpart) the way this number's country dials them.
    pub fn region(&self) -> Option<Region> {
        self.region.map(Region)
    }

    /// What kind of line the number is, as libphonenumber classifies it.
    pub fn number_type(&self) -> PhoneNumberType {
        PHONE_NUMBER_UTIL.get_number_type(&self.parsed).into()
    }

    /// The number written for display in `style` (`+1 201-555-0123`, `(201) 555-0123`, …).
    pub fn format(&self, style: NumberFormat) -> String {
        PHONE_NUMBER_UTIL.format(&self.parsed, style.into()).into_owned()
    }
}

/// Names what is wrong with a number libphonenumber read but does not know as valid.
fn why_invalid(input: &str, number: &PhoneNumber) -> InvalidNumber {
    let code = number.country_code;
    let problem = match PHONE_NUMBER_UTIL.is_possible_number_with_reason(number) {
        Err(ValidationError::InvalidCountryCode) => format!("no country uses the calling code +{code}"),
        Err(ValidationError::TooShort) => format!("it has too few digits for a +{code} number"),
        Err(ValidationError::TooLong) => format!("it has too many digits for a +{code} number"),
        Err(ValidationError::InvalidLength) => format!("no +{code} number has that many digits"),
        Ok(NumberLengthType::IsPossibleLocalOnly) => "it can only be dialled locally: add its area code".to_owned(),
        Ok(NumberLengthType::IsPossible) => format!("no +{code} number is allocated with those digits"),
    };
    InvalidNumber(format!("`{input}` is not a valid phone number: {problem}"))
}

impl PartialEq for E164 {
    fn eq(&self, other: &Self) -> bool {
        self.number == other.number
    }
}

impl Eq for E164 {}

impl hash::Hash for E164 {
    fn hash<H: hash::Hasher>(&self, state: &mut H) {
        self.number.hash(state);
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.number)
    }
}
