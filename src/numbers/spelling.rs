//! Reading a number as people type it and carriers send it (plain text or an
//! RFC 3966 `tel:` URI) into libphonenumber's parsed form, with the extension
//! kept apart. Whether the number is valid is for the caller to judge.

use rlibphonenumber::{PHONE_NUMBER_UTIL, ParseError, PhoneNumber};

use super::e164::{InvalidNumber, Region};

/// A spelling as libphonenumber read it: a number not yet known to be valid, and
/// the extension written after it, if any.
#[derive(Debug)]
pub(super) struct Reading {
    pub number: PhoneNumber,
    pub extension: Option<String>,
}

/// Longer than any number written out with separators; a `tel:` URI may carry a
/// domain name as its context, so it gets more room.
pub(super) const MAX_PLAIN_LENGTH: usize = 64;
const MAX_URI_LENGTH: usize = 256;

/// Reads `input` in `region` (`None`: only international spellings).
pub(super) fn read(input: &str, region: Option<Region>) -> Result<Reading, InvalidNumber> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(InvalidNumber("a phone number is required".into()));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(InvalidNumber(
            "a phone number may not contain control characters".into(),
        ));
    }
    match strip_tel_scheme(trimmed) {
        Some(uri) => read_tel_uri(trimmed, uri, region),
        None => read_plain(trimmed, region),
    }
}

/// `tel:` is case-insensitive, as URI schemes are.
fn strip_tel_scheme(text: &str) -> Option<&str> {
    let scheme = text.get(..4)?;
    scheme.eq_ignore_ascii_case("tel:").then(|| &text[4..])
}

/// A number written as text: `+44 20 7946 0958`, `(201) 555-0123 x45`, `011 49 …`.
fn read_plain(text: &str, region: Option<Region>) -> Result<Reading, InvalidNumber> {
    if text.chars().count() > MAX_PLAIN_LENGTH {
        return Err(InvalidNumber("that is too long to be a phone number".into()));
    }
    let international = text.starts_with('+') || (region.is_none() && text.starts_with("00"));
    let reading = parse(text, region).map_err(|error| explain(text, international, region, error));
    if has_letters(text) {
        // The letters may be only an extension's marker (`x`, `ext.`, `;ext=`).
        let extension = match &reading {
            Ok(reading) => reading.extension.clone(),
            Err(_) => extension_alone(text),
        };
        let number = extension.map_or(text, |extension| without_extension(text, &extension));
        if has_letters(number) {
            return Err(letters(number, region));
        }
    }
    reading
}

/// The extension written after a number that could not be read, such as a
/// national number with no region (`201 555 0123 x45`), so that the message can
/// name the real problem. Finding an extension needs no region's rules; the
/// region given is only there to let the library read on.
fn extension_alone(text: &str) -> Option<String> {
    PHONE_NUMBER_UTIL
        .parse(text, Some(rlibphonenumber::Region::US))
        .ok()?
        .extension
        .filter(|extension| !extension.is_empty())
}

/// An RFC 3966 URI: `tel:+1-201-555-0123`, `tel:7946-0958;phone-context=+44-20`,
/// `tel:+1-201-555-0123;ext=45`. Parameters that describe routing rather than
/// the number (`npdi`, `rn`, `cic`, …) are set aside.
fn read_tel_uri(whole: &str, uri: &str, region: Option<Region>) -> Result<Reading, InvalidNumber> {
    if whole.len() > MAX_URI_LENGTH {
        return Err(InvalidNumber("that is too long to be a tel: URI".into()));
    }
    let mut parts = uri.split(';');
    let number = parts.next().unwrap_or_default().trim();
    if number.is_empty() {
        return Err(InvalidNumber(format!("`{whole}` has no number after `tel:`")));
    }
    if has_letters(number) {
        return Err(letters(number, region));
    }
    let (mut context, mut extension) = (None, None);
    for parameter in parts {
        let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        match name.trim().to_ascii_lowercase().as_str() {
            "phone-context" => context = Some(value.trim()),
            // An ISDN subaddress, like an extension, reaches past the number.
            "ext" | "isub" => extension = Some(value.trim().to_owned()).filter(|value| !value.is_empty()),
            _ => {}
        }
    }
    let text = match context {
        Some(context) => format!("tel:{number};phone-context={context}"),
        None => number.to_owned(),
    };
    let international = number.starts_with('+') || context.is_some_and(|context| context.starts_with('+'));
    let mut reading = parse(&text, region).map_err(|error| explain(whole, international, region, error))?;
    reading.extension = reading.extension.or(extension);
    Ok(reading)
}

fn parse(text: &str, region: Option<Region>) -> Result<Reading, ParseError> {
    // With no region there is no international prefix to go by but the ITU's
    // recommended `00`, which almost every country uses; with a region, its own
    // prefix (`011` from the US, `0011` from Australia) is libphonenumber's to read.
    let international;
    let text = match (region, text.strip_prefix("00")) {
        (None, Some(rest)) => {
            international = format!("+{rest}");
            &international
        }
        _ => text,
    };
    let mut number = PHONE_NUMBER_UTIL.parse(text, region.map(Region::library))?;
    let extension = number.extension.take().filter(|extension| !extension.is_empty());
    Ok(Reading { number, extension })
}

/// `text` up to the extension's marker: `+1 201 555 0123 ext. 45` → `+1 201 555 0123`.
fn without_extension<'a>(text: &'a str, extension: &str) -> &'a str {
    let head = text.trim_end_matches(|c: char| c == '#' || c.is_whitespace());
    let head = head.strip_suffix(extension).unwrap_or(head).trim_end();
    head.trim_end_matches(|c: char| c.is_alphabetic() || ".,;:=".contains(c))
}

fn has_letters(text: &str) -> bool {
    text.chars().any(char::is_alphabetic)
}

/// Letters are refused: a telephony API stores what carriers dial, and a
/// vanity spelling (1-800-FLOWERS) is the digits' advertisement, not the number.
/// It is called one when its letters, read as keypad digits, make a valid number.
fn letters(text: &str, region: Option<Region>) -> InvalidNumber {
    let digits = PHONE_NUMBER_UTIL.convert_alpha_characters_in_number(text);
    let vanity = PHONE_NUMBER_UTIL.is_alpha_number(text)
        && parse(&digits, region).is_ok_and(|reading| PHONE_NUMBER_UTIL.is_valid_number(&reading.number));
    if vanity {
        return InvalidNumber(format!(
            "`{text}` spells digits with letters (a vanity number); numbers are stored as the \
             digits a phone dials, so write it as `{digits}`"
        ));
    }
    InvalidNumber(format!(
        "`{text}` has letters; a phone number may contain only digits, spaces and + ( ) - . /"
    ))
}

/// Names what stopped libphonenumber reading `shown` (`international`: it came
/// with its country calling code).
fn explain(shown: &str, international: bool, region: Option<Region>, error: ParseError) -> InvalidNumber {
    let message = match error {
        ParseError::InvalidCountryCode if region.is_none() && !international => {
            "write the number in international form (+14155550100) or give its country".to_owned()
        }
        ParseError::InvalidCountryCode => {
            format!("`{shown}` does not start with a country calling code in use")
        }
        ParseError::TooShortAfterIdd | ParseError::TooShortNsn => {
            format!("`{shown}` has too few digits to be a phone number")
        }
        ParseError::TooLongNsn => format!("`{shown}` has too many digits to be a phone number"),
        ParseError::NotANumber(_) => format!("`{shown}` is not a phone number"),
    };
    InvalidNumber(message)
}
