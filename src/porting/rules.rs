//! The rules of a port-in order that need no database: which step may follow
//! which status and who may take it, what a complete order holds, business
//! days, and the parsed forms of what a customer types.

use chrono::{Datelike, Days, NaiveDate, Weekday};

use crate::{
    entity::porting_orders::{self, PortingStatus},
    error::AppError,
};

/// Numbers one request may check or order.
pub const MAX_NUMBERS: usize = 100;
/// How far ahead a requested or confirmed FOC date may be.
pub const MAX_DAYS_AHEAD: u64 = 366;
const MAX_TEXT: usize = 200;
const MAX_PIN: usize = 32;
/// Orders one user may have open (not PORTED or CANCELLED) at once.
pub const MAX_OPEN_ORDERS: u64 = 50;
/// Comments one order may hold.
pub const MAX_COMMENTS: u64 = 200;
/// Longest comment or exception reason.
pub const MAX_COMMENT: usize = 2000;

/// A move of an order from one status to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Submit,
    Cancel,
    Start,
    ConfirmFocDate,
    Complete,
    RaiseException,
}

impl Step {
    /// The statuses this step may leave.
    pub fn from(self) -> &'static [PortingStatus] {
        use PortingStatus::*;
        match self {
            Step::Submit => &[Draft, Exception],
            // Before the losing carrier has confirmed a date (and from EXCEPTION:
            // a customer may give up on a port that failed).
            Step::Cancel => &[Draft, Submitted, InProcess, Exception],
            Step::Start => &[Submitted],
            Step::ConfirmFocDate => &[InProcess],
            Step::Complete => &[FocDateConfirmed],
            Step::RaiseException => &[InProcess, FocDateConfirmed],
        }
    }

    pub fn to(self) -> PortingStatus {
        match self {
            Step::Submit => PortingStatus::Submitted,
            Step::Cancel => PortingStatus::Cancelled,
            Step::Start => PortingStatus::InProcess,
            Step::ConfirmFocDate => PortingStatus::FocDateConfirmed,
            Step::Complete => PortingStatus::Ported,
            Step::RaiseException => PortingStatus::Exception,
        }
    }

    /// The past participle, for messages: "only a DRAFT order can be *submitted*".
    fn done(self) -> &'static str {
        match self {
            Step::Submit => "submitted",
            Step::Cancel => "cancelled",
            Step::Start => "taken up with the losing carrier",
            Step::ConfirmFocDate => "given a confirmed FOC date",
            Step::Complete => "completed",
            Step::RaiseException => "sent back with an exception",
        }
    }

    /// `BAD_USER_INPUT` on `id`, naming the order's current status.
    pub fn refused_from(self, current: PortingStatus) -> AppError {
        AppError::bad_input(
            "id",
            format!(
                "the order is {}; only {} order can be {}",
                status_name(current),
                statuses(self.from()),
                self.done()
            ),
        )
    }
}

/// Changing an order's details: a DRAFT, or an EXCEPTION being fixed.
pub const EDITABLE: &[PortingStatus] = &[PortingStatus::Draft, PortingStatus::Exception];

/// `BAD_USER_INPUT` on `id` for a change to an order that is past editing.
pub fn not_editable(current: PortingStatus) -> AppError {
    AppError::bad_input(
        "id",
        format!(
            "the order is {}; only {} order can be changed",
            status_name(current),
            statuses(EDITABLE)
        ),
    )
}

/// The status as the API spells it.
pub fn status_name(status: PortingStatus) -> &'static str {
    match status {
        PortingStatus::Draft => "DRAFT",
        PortingStatus::Submitted => "SUBMITTED",
        PortingStatus::InProcess => "IN_PROCESS",
        PortingStatus::FocDateConfirmed => "FOC_DATE_CONFIRMED",
        PortingStatus::Ported => "PORTED",
        PortingStatus::Exception => "EXCEPTION",
        PortingStatus::Cancelled => "CANCELLED",
    }
}

/// "a DRAFT or EXCEPTION", "a SUBMITTED, IN_PROCESS or EXCEPTION".
fn statuses(list: &[PortingStatus]) -> String {
    let names: Vec<&str> = list.iter().map(|status| status_name(*status)).collect();
    let article = match names.first() {
        Some(name) if name.starts_with(['A', 'E', 'I', 'O', 'U']) => "an",
        _ => "a",
    };
    match names.split_last() {
        Some((last, [])) => format!("{article} {last}"),
        Some((last, rest)) => format!("{article} {} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The date `business_days` working days (Monday to Friday) after `today`.
pub fn business_days_after(today: NaiveDate, business_days: u32) -> NaiveDate {
    let mut date = today;
    let mut left = business_days;
    while left > 0 {
        date = date.succ_opt().unwrap_or(date);
        if !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    date
}

/// The latest date a FOC date may be, from `today`.
pub fn latest_foc_date(today: NaiveDate) -> NaiveDate {
    today.checked_add_days(Days::new(MAX_DAYS_AHEAD)).unwrap_or(today)
}

/// Something a losing carrier demands that an order still lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    AccountHolderName,
    AccountNumber,
    AccountPin,
    ServiceAddress,
    AuthorizedPersonName,
    /// Missing, or sooner than `earliest` allows.
    RequestedFocDate,
}

/// What `order` still lacks before it can be submitted, given the earliest
/// FOC date allowed today.
pub fn requirements(order: &porting_orders::Model, earliest: NaiveDate) -> Vec<Requirement> {
    let mut missing = Vec::new();
    if order.account_holder_name.is_none() {
        missing.push(Requirement::AccountHolderName);
    }
    if order.account_number.is_none() {
        missing.push(Requirement::AccountNumber);
    }
    if order.account_pin.is_none() {
        missing.push(Requirement::AccountPin);
    }
    if order.service_street.is_none() || order.service_locality.is_none() || order.service_postal_code.is_none() {
        missing.push(Requirement::ServiceAddress);
    }
    if order.authorized_person_name.is_none() {
        missing.push(Requirement::AuthorizedPersonName);
    }
    if order.requested_foc_date.is_none_or(|date| date < earliest) {
        missing.push(Requirement::RequestedFocDate);
    }
    missing
}

/// A change to one field: leave it, clear it, or set it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Change<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Change<T> {
    pub fn is_keep(&self) -> bool {
        matches!(self, Change::Keep)
    }
}

/// Where the numbers are in service, as the losing carrier has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAddress {
    pub street: String,
    pub locality: String,
    pub region: Option<String>,
    pub postal_code: String,
}

/// The details of an order a customer fills in; every field optional.
#[derive(Debug, Clone, Default)]
pub struct DetailChanges {
    pub account_holder_name: Change<String>,
    pub account_number: Change<String>,
    pub account_pin: Change<String>,
    pub service_address: Change<ServiceAddress>,
    pub authorized_person_name: Change<String>,
    pub requested_foc_date: Change<NaiveDate>,
}

impl DetailChanges {
    /// The API names of the fields this changes (never their values: one is a PIN).
    pub fn field_names(&self) -> Vec<&'static str> {
        [
            ("accountHolderName", self.account_holder_name.is_keep()),
            ("accountNumber", self.account_number.is_keep()),
            ("accountPin", self.account_pin.is_keep()),
            ("serviceAddress", self.service_address.is_keep()),
            ("authorizedPersonName", self.authorized_person_name.is_keep()),
            ("requestedFocDate", self.requested_foc_date.is_keep()),
        ]
        .into_iter()
        .filter(|(_, keep)| !keep)
        .map(|(name, _)| name)
        .collect()
    }
}

/// A name, account number or address line: trimmed, 1 to 200 characters, no
/// control characters. Blank reads as absent.
pub fn text(field: &'static str, input: Option<&str>) -> Result<Option<String>, AppError> {
    let Some(value) = input.map(str::trim).filter(|value| !value.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > MAX_TEXT {
        return Err(AppError::bad_input(
            field,
            format!("`{field}` may be at most {MAX_TEXT} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(AppError::bad_input(
            field,
            format!("`{field}` may not hold control characters"),
        ));
    }
    Ok(Some(value.to_owned()))
}

/// A required line of a structured input: as `text`, but blank is refused.
pub fn required_text(field: &'static str, input: &str) -> Result<String, AppError> {
    text(field, Some(input))?.ok_or_else(|| AppError::bad_input(field, format!("`{field}` may not be blank")))
}

/// The account PIN or passcode: 1 to 32 visible ASCII characters, no spaces.
pub fn pin(input: &str) -> Result<String, AppError> {
    let valid = !input.is_empty() && input.len() <= MAX_PIN && input.bytes().all(|byte| byte.is_ascii_graphic());
    if !valid {
        return Err(AppError::bad_input(
            "accountPin",
            format!("`accountPin` is 1 to {MAX_PIN} letters, digits or symbols, without spaces"),
        ));
    }
    Ok(input.to_owned())
}

/// A comment or exception reason: trimmed, 1 to 2,000 characters, no control
/// characters but line breaks and tabs.
pub fn comment(field: &'static str, input: &str) -> Result<String, AppError> {
    let value = input.trim();
    if value.is_empty() {
        return Err(AppError::bad_input(field, format!("`{field}` may not be blank")));
    }
    if value.chars().count() > MAX_COMMENT {
        return Err(AppError::bad_input(
            field,
            format!("`{field}` may be at most {MAX_COMMENT} characters"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(AppError::bad_input(
            field,
            format!("`{field}` may not hold control characters"),
        ));
    }
    Ok(value.to_owned())
}

/// An optional comment on a step.
pub fn optional_comment(field: &'static str, input: Option<&str>) -> Result<Option<String>, AppError> {
    match input.map(str::trim).filter(|value| !value.is_empty()) {
        Some(value) => comment(field, value).map(Some),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn business_days_skip_weekends() {
        // Thursday 2026-11-26.
        assert_eq!(business_days_after(date("2026-11-26"), 0), date("2026-11-26"));
        assert_eq!(business_days_after(date("2026-11-26"), 1), date("2026-11-27"));
        assert_eq!(business_days_after(date("2026-11-26"), 2), date("2026-11-30"));
        assert_eq!(business_days_after(date("2026-11-26"), 5), date("2026-12-03"));
        // From a Saturday, Monday is the first.
        assert_eq!(business_days_after(date("2026-11-28"), 1), date("2026-11-30"));
    }

    #[test]
    fn every_status_but_the_ends_has_a_way_on() {
        use PortingStatus::*;
        let steps = [
            Step::Submit,
            Step::Cancel,
            Step::Start,
            Step::ConfirmFocDate,
            Step::Complete,
            Step::RaiseException,
        ];
        for status in [Draft, Submitted, InProcess, FocDateConfirmed, Exception] {
            assert!(steps.iter().any(|step| step.from().contains(&status)), "{status:?}");
        }
        for status in [Ported, Cancelled] {
            assert!(!steps.iter().any(|step| step.from().contains(&status)), "{status:?}");
        }
        // Once the losing carrier has confirmed a date, the customer cannot cancel.
        assert!(!Step::Cancel.from().contains(&FocDateConfirmed));
    }

    #[test]
    fn refusals_name_the_current_status() {
        let AppError::BadInput { field, message } = Step::Submit.refused_from(PortingStatus::InProcess) else {
            panic!("not BAD_USER_INPUT");
        };
        assert_eq!(field, "id");
        assert_eq!(
            message,
            "the order is IN_PROCESS; only a DRAFT or EXCEPTION order can be submitted"
        );
        let AppError::BadInput { message, .. } = Step::Start.refused_from(PortingStatus::Draft) else {
            panic!("not BAD_USER_INPUT");
        };
        assert!(message.starts_with("the order is DRAFT; only a SUBMITTED order"));
    }

    #[test]
    fn inputs_are_bounded() {
        assert_eq!(text("x", Some("  ")).unwrap(), None);
        assert!(text("x", Some(&"a".repeat(201))).is_err());
        assert!(text("x", Some("a\u{7}")).is_err());
        assert!(pin("12 34").is_err());
        assert!(pin("").is_err());
        assert!(pin(&"1".repeat(33)).is_err());
        assert_eq!(pin("0000").unwrap(), "0000");
        assert!(comment("comment", "  ").is_err());
        assert!(comment("comment", "line one\nline two").is_ok());
        assert!(comment("comment", "bell\u{7}").is_err());
    }
}
