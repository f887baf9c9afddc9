//! The GraphQL faces of `display`'s types: the `PhoneNumberType` and
//! `NumberFormat` enums, so any object carrying a number can expose them.

use async_graphql::Enum;

/// The kind of line a number is, from libphonenumber's numbering metadata.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "super::display::PhoneNumberType")]
pub enum PhoneNumberType {
    /// A mobile number.
    Mobile,
    /// A landline.
    FixedLine,
    /// Either: the region's numbering plan does not tell landlines and mobiles
    /// apart (the United States and Canada, for instance).
    FixedLineOrMobile,
    /// Free to the caller (`+1 800 …`, `+44 800 …`).
    TollFree,
    /// Charged at a premium to the caller.
    PremiumRate,
    /// The cost is split between caller and receiver.
    SharedCost,
    /// Voice over IP.
    Voip,
    /// A personal number that follows its owner to other lines.
    PersonalNumber,
    /// A pager.
    Pager,
    /// Universal access number: one number reaching a company's several offices.
    Uan,
    /// Reaches a voicemail box directly.
    Voicemail,
    /// Valid, but of no type libphonenumber can tell.
    Unknown,
}

/// How to write a number for display.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
#[graphql(remote = "super::display::NumberFormat")]
pub enum NumberFormat {
    /// As dialled within its own country: `(201) 555-0123`, `020 7946 0958`.
    National,
    /// With the country code, grouped as in its country: `+1 201-555-0123`.
    #[default]
    International,
    /// Digits only, as stored: `+12015550123`.
    #[graphql(name = "E164")]
    E164,
    /// An RFC 3966 `tel:` URI, for links: `tel:+1-201-555-0123`.
    #[graphql(name = "RFC3966")]
    Rfc3966,
}
