//! The numbers the benchmark parses: example fixed-line and mobile numbers of
//! every region (or of a few), written internationally, and nationally with a
//! region hint, in a fixed shuffled order so that consecutive numbers are from
//! different countries.

use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumberFormat, PhoneNumberType};

/// A spelling and the ISO region hint it is sent with, if any.
pub struct Case {
    pub spelling: String,
    pub region: Option<String>,
}

/// Every region libphonenumber knows (about 245).
pub fn every_country() -> Vec<Case> {
    let mut regions: Vec<_> = PHONE_NUMBER_UTIL.get_supported_regions().collect();
    regions.sort();
    shuffled(cases_for(&regions))
}

/// Eight countries a service might mostly see, repeated to the size of `every_country`.
pub fn eight_countries() -> Vec<Case> {
    let regions = ["US", "GB", "DE", "FR", "ES", "AU", "JP", "IN"].map(|code| code.parse().expect("a region"));
    let one_pass = cases_for(&regions).len();
    let passes = every_country().len().div_ceil(one_pass);
    shuffled((0..passes).flat_map(|_| cases_for(&regions)).collect())
}

fn cases_for(regions: &[rlibphonenumber::Region]) -> Vec<Case> {
    let mut cases = Vec::new();
    for &region in regions {
        for kind in [PhoneNumberType::FixedLine, PhoneNumberType::Mobile] {
            let Ok(example) = PHONE_NUMBER_UTIL.get_example_number_for_type_and_region(region, kind) else {
                continue;
            };
            cases.push(Case {
                spelling: PHONE_NUMBER_UTIL
                    .format(&example, PhoneNumberFormat::International)
                    .into_owned(),
                region: None,
            });
            cases.push(Case {
                spelling: PHONE_NUMBER_UTIL
                    .format(&example, PhoneNumberFormat::National)
                    .into_owned(),
                region: Some(region.to_string()),
            });
        }
    }
    cases
}

fn shuffled(mut cases: Vec<Case>) -> Vec<Case> {
    // A fixed linear congruential shuffle: the same order on every run.
    let mut state: u64 = 0x5eed;
    for i in (1..cases.len()).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        cases.swap(i, (state >> 33) as usize % (i + 1));
    }
    cases
}
