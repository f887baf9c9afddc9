//! What a number is and how it is written for people: `PhoneNumberType` and
//! `NumberFormat`, the domain's own names for libphonenumber's classifications.

/// The kind of line a number is, as libphonenumber's metadata classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhoneNumberType {
    Mobile,
    FixedLine,
    /// Where a region's numbering plan does not tell the two apart (the US, say).
    FixedLineOrMobile,
    TollFree,
    PremiumRate,
    SharedCost,
    Voip,
    PersonalNumber,
    Pager,
    /// Universal access number: one number for a company's several offices.
    Uan,
    Voicemail,
    Unknown,
}

impl PhoneNumberType {
    const ALL: [PhoneNumberType; 12] = [
        PhoneNumberType::Mobile,
        PhoneNumberType::FixedLine,
        PhoneNumberType::FixedLineOrMobile,
        PhoneNumberType::TollFree,
        PhoneNumberType::PremiumRate,
        PhoneNumberType::SharedCost,
        PhoneNumberType::Voip,
        PhoneNumberType::PersonalNumber,
        PhoneNumberType::Pager,
        PhoneNumberType::Uan,
        PhoneNumberType::Voicemail,
        PhoneNumberType::Unknown,
    ];

    /// The stored name (the GraphQL enum's value).
    pub fn name(self) -> &'static str {
        match self {
            PhoneNumberType::Mobile => "MOBILE",
            PhoneNumberType::FixedLine => "FIXED_LINE",
            PhoneNumberType::FixedLineOrMobile => "FIXED_LINE_OR_MOBILE",
            PhoneNumberType::TollFree => "TOLL_FREE",
            PhoneNumberType::PremiumRate => "PREMIUM_RATE",
            PhoneNumberType::SharedCost => "SHARED_COST",
            PhoneNumberType::Voip => "VOIP",
            PhoneNumberType::PersonalNumber => "PERSONAL_NUMBER",
            PhoneNumberType::Pager => "PAGER",
            PhoneNumberType::Uan => "UAN",
            PhoneNumberType::Voicemail => "VOICEMAIL",
            PhoneNumberType::Unknown => "UNKNOWN",
        }
    }

    /// Reads a stored name back (`Unknown` for anything else).
    pub fn from_name(name: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .unwrap_or(PhoneNumberType::Unknown)
    }
}

impl From<rlibphonenumber::PhoneNumberType> for PhoneNumberType {
    fn from(kind: rlibphonenumber::PhoneNumberType) -> Self {
        use rlibphonenumber::PhoneNumberType as Library;
        match kind {
            Library::FixedLine => PhoneNumberType::FixedLine,
            Library::Mobile => PhoneNumberType::Mobile,
            Library::FixedLineOrMobile => PhoneNumberType::FixedLineOrMobile,
            Library::TollFree => PhoneNumberType::TollFree,
            Library::PremiumRate => PhoneNumberType::PremiumRate,
            Library::SharedCost => PhoneNumberType::SharedCost,
            Library::VoIP => PhoneNumberType::Voip,
            Library::PersonalNumber => PhoneNumberType::PersonalNumber,
            Library::Pager => PhoneNumberType::Pager,
            Library::UAN => PhoneNumberType::Uan,
            Library::VoiceMail => PhoneNumberType::Voicemail,
            Library::Unknown => PhoneNumberType::Unknown,
        }
    }
}

/// How a number is written for display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum NumberFormat {
    /// As dialled within its country: `(201) 555-0123`, `020 7946 0958`.
    National,
    /// With its country code, grouped: `+1 201-555-0123`, `+44 20 7946 0958`.
    #[default]
    International,
    /// Digits only: `+12015550123`.
    E164,
    /// A `tel:` URI: `tel:+1-201-555-0123`.
    Rfc3966,
}

impl From<NumberFormat> for rlibphonenumber::PhoneNumberFormat {
    fn from(style: NumberFormat) -> Self {
        match style {
            NumberFormat::National => rlibphonenumber::PhoneNumberFormat::National,
            NumberFormat::International => rlibphonenumber::PhoneNumberFormat::International,
            NumberFormat::E164 => rlibphonenumber::PhoneNumberFormat::E164,
            NumberFormat::Rfc3966 => rlibphonenumber::PhoneNumberFormat::RFC3966,
        }
    }
}
