//! The other party of a call as carriers send it, which is not always a valid
//! number: `Counterpart` and `parse_counterpart`. Recording calls is `calls`'s.

use rlibphonenumber::PHONE_NUMBER_UTIL;

use super::{
    E164, Region,
    e164::InvalidNumber,
    spelling::{self, Reading},
};

/// Who was on the other end of a call, as far as the carrier told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Counterpart {
    /// A valid number, with the extension or subaddress the carrier sent after it.
    Valid { number: E164, extension: Option<String> },
    /// No number presented: withheld, anonymous, restricted or unavailable.
    Withheld,
    /// A short code or service number, meaningful only in the region it was dialled
    /// in: emergency (`911`, `112`, `999`), directory and SMS short codes.
    ShortCode { digits: String },
    /// Digits that are not a valid number (an unknown country code, a wrong length,
    /// a range not allocated): `+` and the country code when there was one.
    Unverifiable { digits: String },
}

/// The longest short code or service number (SMS short codes run to six digits).
const SHORT_CODE_MAX_DIGITS: usize = 6;

/// What carriers put in place of a number they do not present (SIP's
/// `anonymous`, caller-ID's `P`rivate and `O`ut-of-area, …), compared in lower case.
const NOT_PRESENTED: [&str; 10] = [
    "anonymous",
    "restricted",
    "unavailable",
    "unknown",
    "private",
    "withheld",
    "blocked",
    "p",
    "o",
    "anonymous.invalid",
];

/// Reads a call's counterpart in the region of the virtual number it called or
/// was called from. Refused only when it is no number at all: letters that are
/// not a withheld marker, or text far too long.
pub fn parse_counterpart(input: &str, region: Option<Region>) -> Result<Counterpart, InvalidNumber> {
    let text = sip_user(input.trim());
    if text.is_empty() || NOT_PRESENTED.contains(&text.to_ascii_lowercase().as_str()) {
        return Ok(Counterpart::Withheld);
    }
    let reading = spelling::read(&text, region);
    if let Ok(Reading { number, extension }) = &reading
        && PHONE_NUMBER_UTIL.is_valid_number(number)
    {
        return Ok(Counterpart::Valid {
            number: E164::from_valid(number),
            extension: extension.clone(),
        });
    }
    let written = number_part(&text);
    let digits = PHONE_NUMBER_UTIL.normalize_digits_only(written);
    let written_international = written.trim_start().starts_with('+');
    match reading {
        Err(error)
            if digits.is_empty()
                || written.chars().any(char::is_alphabetic)
                || written.chars().count() > spelling::MAX_PLAIN_LENGTH =>
        {
            Err(error)
        }
        _ if !written_international && (1..=SHORT_CODE_MAX_DIGITS).contains(&digits.len()) => {
            Ok(Counterpart::ShortCode { digits })
        }
        // Read but not valid: the country code libphonenumber found is worth keeping.
        Ok(Reading { number, .. }) => Ok(Counterpart::Unverifiable {
            digits: PHONE_NUMBER_UTIL
                .format(&number, rlibphonenumber::PhoneNumberFormat::E164)
                .into_owned(),
        }),
        Err(_) if written_international => Ok(Counterpart::Unverifiable {
            digits: format!("+{digits}"),
        }),
        Err(_) => Ok(Counterpart::Unverifiable { digits }),
    }
}

/// The number as written, without a `tel:` scheme or URI parameters.
fn number_part(text: &str) -> &str {
    match text.get(..4) {
        Some(scheme) if scheme.eq_ignore_ascii_case("tel:") => text[4..].split(';').next().unwrap_or_default(),
        _ => text,
    }
}

/// The user part of a SIP URI (`sip:+12015550123@carrier.example;user=phone`),
/// as a `tel:` URI when it carries parameters; anything else unchanged.
fn sip_user(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let Some(rest) = ["sips:", "sip:"]
        .iter()
        .find_map(|scheme| lower.starts_with(scheme).then(|| &text[scheme.len()..]))
    else {
        return text.to_owned();
    };
    let user = rest.split_once('@').map_or(rest, |(user, _host)| user);
    if user.contains(';') {
        format!("tel:{user}")
    } else {
        user.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &str, region: &str) -> Counterpart {
        parse_counterpart(input, Some(region.parse().unwrap())).unwrap()
    }

    fn short(digits: &str) -> Counterpart {
        Counterpart::ShortCode { digits: digits.into() }
    }

    fn unverifiable(digits: &str) -> Counterpart {
        Counterpart::Unverifiable { digits: digits.into() }
    }

    #[test]
    fn valid_numbers_are_read_as_e164_with_any_extension_kept_apart() {
        let Counterpart::Valid { number, extension } = read("(201) 555-0123 x45", "US") else {
            panic!("a valid number");
        };
        assert_eq!(number.as_str(), "+12015550123");
        assert_eq!(extension.as_deref(), Some("45"));
        assert_eq!(
            read("sip:+442079460958@carrier.example;user=phone", "US"),
            Counterpart::Valid {
                number: E164::parse("+442079460958", None).unwrap(),
                extension: None
            }
        );
        assert!(matches!(read("tel:+1-201-555-0123;ext=7", "GB"),
            Counterpart::Valid { extension: Some(ext), .. } if ext == "7"));
    }

    #[test]
    fn withheld_caller_ids_are_withheld() {
        for withheld in [
            "",
            "  ",
            "anonymous",
            "Anonymous",
            "RESTRICTED",
            "unavailable",
            "Private",
            "P",
            "O",
            "sip:anonymous@anonymous.invalid",
        ] {
            assert_eq!(read(withheld, "US"), Counterpart::Withheld, "{withheld:?}");
        }
    }

    #[test]
    fn short_codes_and_service_numbers_keep_their_digits() {
        assert_eq!(read("911", "US"), short("911"));
        assert_eq!(read("112", "DE"), short("112"));
        assert_eq!(read("999", "GB"), short("999"));
        assert_eq!(read("12345", "US"), short("12345"));
        assert_eq!(read("654-321", "US"), short("654321"));
        assert_eq!(parse_counterpart("911", None).unwrap(), short("911"));
    }

    #[test]
    fn numbers_that_are_not_valid_keep_their_digits_as_unverifiable() {
        assert_eq!(read("+4990012345670", "US"), unverifiable("+4990012345670"));
        assert_eq!(read("+999 1234 5678", "US"), unverifiable("+99912345678"));
        assert_eq!(read("201 555 01", "US"), unverifiable("+120155501"));
        assert_eq!(read("+1 911", "US"), unverifiable("+1911"));
        assert_eq!(
            parse_counterpart("2015550123", None).unwrap(),
            unverifiable("2015550123")
        );
    }

    #[test]
    fn text_that_is_no_number_is_refused() {
        for text in ["call me maybe", "ACME Corp", "+1 800 FLOWERS", &"9".repeat(80)] {
            assert!(parse_counterpart(text, None).is_err(), "{text:?}");
        }
    }
}
