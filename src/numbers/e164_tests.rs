//! tests
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

use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumber, PhoneNumberFormat};

fn read(input: &str, hint: Option<&str>) -> Result<String, String> {
    let region = hint.map(|code| code.parse::<Region>().unwrap());
    E164::parse(input, region)
        .map(|number| number.as_str().to_owned())
        .map_err(|error| error.0)
}

fn refusal(input: &str, hint: Option<&str>) -> String {
    read(input, hint).expect_err(input)
}

#[test]
fn the_cases_the_issue_names_read_as_libphonenumber_reads_them() {
    let cases = [
        // A US hint no longer corrupts numbers that carry their own country code.
        ("+49 151 23456789", Some("US"), "+4915123456789"),
        ("+60 154-601 2345", Some("US"), "+601546012345"),
        // Numbers whose national part starts with 8.
        ("+78001234567", None, "+78001234567"),
        ("+3758011234567", None, "+3758011234567"),
        ("+37080012345", None, "+37080012345"),
        // International prefixes by region.
        ("011 49 151 23456789", Some("US"), "+4915123456789"),
        ("0011 44 20 7946 0958", Some("AU"), "+442079460958"),
        ("0015 44 20 7946 0958", Some("BR"), "+442079460958"),
        ("0021 44 20 7946 0958", Some("BR"), "+442079460958"),
        ("001 44 20 7946 0958", Some("KR"), "+442079460958"),
        ("00 44 20 7946 0958", Some("DE"), "+442079460958"),
        ("00 1 201 555 0123", Some("FR"), "+12015550123"),
    ];
    for (input, hint, expected) in cases {
        assert_eq!(read(input, hint).as_deref(), Ok(expected), "{input} with {hint:?}");
    }
    for invalid in ["+4990012345670", "+5988001234123456"] {
        assert!(
            refusal(invalid, None).contains("is not a valid phone number"),
            "{invalid}"
        );
    }
    let milan = E164::parse("+39 02 1234 5678", None).unwrap();
    assert_eq!(milan.country_code().as_deref(), Some("IT"));
    let vatican = E164::parse("+39 06 698 12345", None).unwrap();
    assert_eq!(vatican.country_code().as_deref(), Some("VA"));
}

#[test]
fn a_region_reads_only_its_own_international_prefix() {
    // From the US, 00 is not an international prefix: 0044… is a (bad) US number.
    assert!(read("0044 20 7946 0958", Some("US")).is_err());
    assert!(read("011 44 20 7946 0958", Some("GB")).is_err());
    // With no region, only the ITU's 00 is read as international.
    assert_eq!(read("0044 20 7946 0958", None).as_deref(), Ok("+442079460958"));
    assert!(refusal("011 44 20 7946 0958", None).contains("international form"));
}

#[test]
fn tel_uris_are_read() {
    let cases = [
        ("tel:+1-201-555-0123", None, "+12015550123"),
        ("TEL:+1.201.555.0123", None, "+12015550123"),
        ("tel:+44-20-7946-0958", Some("US"), "+442079460958"),
        ("tel:201-555-0123;phone-context=+1", None, "+12015550123"),
        ("tel:7946-0958;phone-context=+44-20", None, "+442079460958"),
        ("tel:201-555-0123;phone-context=example.com", Some("US"), "+12015550123"),
        ("tel:+1-201-555-0123;npdi;rn=+1-201-555-9999", None, "+12015550123"),
    ];
    for (input, hint, expected) in cases {
        assert_eq!(read(input, hint).as_deref(), Ok(expected), "{input} with {hint:?}");
    }
    assert!(refusal("tel:201-555-0123;phone-context=example.com", None).contains("give its country"));
    assert!(refusal("tel:", None).contains("no number"));
    assert!(refusal("tel:+1-800-FLOWERS", None).contains("vanity"));
}

#[test]
fn extensions_are_refused_with_a_message_saying_numbers_have_none() {
    for (input, hint) in [
        ("+1 201 555 0123 x45", None),
        ("+1 201 555 0123 ext. 45", None),
        ("+1 201 555 0123 ext 45", None),
        ("+1 201 555 0123;ext=45", None),
        ("tel:+1-201-555-0123;ext=45", None),
        ("(201) 555-0123 extension 45", Some("US")),
    ] {
        let message = refusal(input, hint);
        assert!(message.contains("numbers here have no extension"), "{input}: {message}");
        assert!(message.contains("(45)"), "{input}: {message}");
    }
    // A national number with no region: the missing country is the problem to name.
    assert!(refusal("201 555 0123 x45", None).contains("give its country"));
}

#[test]
fn letters_are_refused_with_a_message_saying_why() {
    let vanity = refusal("+1 800 FLOWERS", None);
    assert!(vanity.contains("vanity"), "{vanity}");
    assert!(vanity.contains("+1 800 3569377"), "{vanity}");
    assert!(refusal("1-800-FLOWERS x45", Some("US")).contains("vanity"));
    for words in ["call me maybe", "+1 201 555 0123 please", "abc"] {
        assert!(refusal(words, None).contains("has letters"), "{words}");
    }
}

#[test]
fn unknown_regions_are_refused_and_known_ones_read_in_any_case() {
    for unknown in ["ZZ", "XX", "EU", "UK", "001", "", "USA", "1"] {
        assert!(unknown.parse::<Region>().is_err(), "{unknown}");
    }
    for known in ["us", " GB ", "Au", "XK", "AC"] {
        assert!(known.parse::<Region>().is_ok(), "{known}");
    }
}

#[test]
fn numbers_expose_their_type_and_display_forms() {
    let us = E164::parse("+12015550123", None).unwrap();
    let mobile = E164::parse("+44 7400 123456", None).unwrap();
    let toll_free = E164::parse("+1 800 356 9377", None).unwrap();
    let international_freephone = E164::parse("+800 1234 5678", None).unwrap();

    assert_eq!(us.number_type(), PhoneNumberType::FixedLineOrMobile);
    assert_eq!(mobile.number_type(), PhoneNumberType::Mobile);
    assert_eq!(toll_free.number_type(), PhoneNumberType::TollFree);
    assert_eq!(us.format(NumberFormat::National), "(201) 555-0123");
    assert_eq!(us.format(NumberFormat::International), "+1 201-555-0123");
    assert_eq!(us.format(NumberFormat::E164), "+12015550123");
    assert_eq!(us.format(NumberFormat::Rfc3966), "tel:+1-201-555-0123");
    assert_eq!(mobile.format(NumberFormat::National), "07400 123456");
    assert_eq!(international_freephone.country_code(), None);
}

/// Every example number libphonenumber ships, for every region and every type
/// with an example, in every spelling, with and without hints.
#[test]
fn every_example_number_reads_back_in_every_spelling() {
    let mut failures = Vec::new();
    let mut cases = 0;
    let mut check = |input: &str, hint: Option<rlibphonenumber::Region>, expected: &str, country: Option<&str>| {
        cases += 1;
        let region = hint.map(|region| region.to_string().parse::<Region>().unwrap());
        match E164::parse(input, region) {
            Ok(number) if number.as_str() == expected && number.country_code().as_deref() == country => {}
            outcome => failures.push(format!(
                "{input:?} with {hint:?}: expected {expected} in {country:?}, got {:?}",
                outcome.map(|number| (number.to_string(), number.country_code()))
            )),
        }
    };
    let dialling_from =
        ["US", "GB", "AU", "KR", "BR", "JP", "DE", "RU"].map(|code| code.parse::<rlibphonenumber::Region>().unwrap());
    let mut regions: Vec<_> = PHONE_NUMBER_UTIL.get_supported_regions().collect();
    regions.sort();
    assert!(regions.len() >= 240, "libphonenumber knows {} regions", regions.len());
    for region in regions {
        let types = PHONE_NUMBER_UTIL
            .get_supported_types_for_region(region)
            .unwrap_or_default();
        for kind in types {
            let Ok(example) = PHONE_NUMBER_UTIL.get_example_number_for_type_and_region(region, kind) else {
                continue;
            };
            let expected = format(&example, PhoneNumberFormat::E164);
            // Regions sharing a calling code share some ranges (toll-free +1 800 is
            // every NANP region's): the country is the one libphonenumber names.
            let country = PHONE_NUMBER_UTIL
                .get_region_for_number(&example)
                .map(|region| region.to_string());
            let country = country.as_deref();
            let international = format(&example, PhoneNumberFormat::International);
            let national = format(&example, PhoneNumberFormat::National);
            for spelling in spellings(&international) {
                for hint in [None, Some(region)].into_iter().chain(dialling_from.map(Some)) {
                    check(&spelling, hint, &expected, country);
                }
            }
            for spelling in spellings(&national) {
                check(&spelling, Some(region), &expected, country);
                // Without its region a national spelling is refused, never misread.
                if let Ok(number) = E164::parse(&spelling, None) {
                    assert_eq!(number.as_str(), expected, "{spelling:?} without a hint");
                }
            }
            let digits = expected.trim_start_matches('+');
            check(&format!("00 {digits}"), None, &expected, country);
            for from in dialling_from.into_iter().chain([region]) {
                let dialled = PHONE_NUMBER_UTIL.format_out_of_country_calling_number(&example, from);
                check(&dialled, Some(from), &expected, country);
            }
        }
    }
    let total = cases;
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(total > 20_000, "only {total} cases");
}

fn format(number: &PhoneNumber, style: PhoneNumberFormat) -> String {
    PHONE_NUMBER_UTIL.format(number, style).into_owned()
}

/// A formatted number as written, dotted, dashed and with its first group
/// (after the country code) bracketed.
fn spellings(formatted: &str) -> Vec<String> {
    let separated = |separator: &str| formatted.replace([' ', '-'], separator);
    let mut spellings = vec![formatted.to_owned(), separated("."), separated("-")];
    let (prefix, rest) = match formatted.split_once(' ') {
        Some((code, rest)) if code.starts_with('+') => (format!("{code} "), rest),
        _ => (String::new(), formatted),
    };
    if !rest.contains('(')
        && let Some(end) = rest.find([' ', '-'])
    {
        spellings.push(format!("{prefix}({}){}", &rest[..end], &rest[end..]));
    }
    spellings
}

/// Each example with a digit dropped or added, where libphonenumber then calls
/// it invalid, and numbers under every calling code no country uses.
#[test]
fn invalid_variants_are_refused() {
    let mut refused = 0;
    for region in PHONE_NUMBER_UTIL.get_supported_regions() {
        for kind in PHONE_NUMBER_UTIL
            .get_supported_types_for_region(region)
            .unwrap_or_default()
        {
            let Ok(example) = PHONE_NUMBER_UTIL.get_example_number_for_type_and_region(region, kind) else {
                continue;
            };
            let national = example.get_national_significant_number();
            let code = example.country_code;
            for variant in [&national[..national.len() - 1], &format!("{national}5")] {
                let spelled = format!("+{code} {variant}");
                let library_valid = PHONE_NUMBER_UTIL
                    .parse(&spelled, None)
                    .is_ok_and(|number| PHONE_NUMBER_UTIL.is_valid_number(&number));
                if !library_valid {
                    refused += 1;
                    assert!(E164::parse(&spelled, None).is_err(), "{spelled} should be refused");
                }
            }
        }
    }
    assert!(refused > 500, "only {refused} invalid variants");
    let in_use: Vec<i32> = PHONE_NUMBER_UTIL.get_supported_calling_codes().collect();
    // Calling codes are prefix-free and at most three digits: +12… is +1 2…, and
    // +23 1… is Liberia's +231, so the unknown ones are three-digit codes none of
    // whose prefixes is in use.
    let unused = |code: i32| {
        [code, code / 10, code / 100]
            .iter()
            .all(|prefix| !in_use.contains(prefix))
    };
    let unknown: Vec<i32> = (100..1000).filter(|code| unused(*code)).collect();
    assert!(unknown.len() > 50, "{unknown:?}");
    for code in unknown {
        let spelled = format!("+{code} 123 456 789");
        assert!(E164::parse(&spelled, None).is_err(), "{spelled} should be refused");
    }
    for nothing in ["", " ", "\t", "+", "()", "tel:"] {
        assert!(E164::parse(nothing, None).is_err(), "{nothing:?} should be refused");
    }
    assert!(refusal("", None).contains("required"));
    assert!(refusal("+1 201 555\u{0} 0123", None).contains("control"));
    assert!(refusal(&"1".repeat(65), None).contains("too long"));
}
