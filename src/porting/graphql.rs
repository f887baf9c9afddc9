//! Number porting in GraphQL: `checkPortability`, `PortingOrder` and its
//! timeline, the customer's and staff's mutations, and `portingOrderUpdated`.

use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use uuid::Uuid;

use super::{
    Actor, ORDER_NOT_FOUND, PortingService,
    loaders::{PortingNumbersLoader, PortingOrderLoader},
    rules::{self, Change, DetailChanges, Requirement},
    service::{self as porting_service, OrderFilter, Portability},
};
use crate::{
    accounts::{Staff, graphql::User, loaders::UserLoader},
    auth::ClientAddress,
    entity::{porting_events, porting_order_numbers, porting_orders},
    error::AppError,
    graphql::{
        Connection, ConnectionNode, ContextExt, Date, RelayArgs,
        ids::{self, NodeType},
        loaders::unshare,
    },
    numbers::{
        DefaultRegion, E164, Region,
        display_graphql::{NumberFormat, PhoneNumberType},
        graphql::VirtualNumber,
        loaders::NumberLoader,
    },
    paging::CursorKey,
};

/// Where a port-in order stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "porting_orders::PortingStatus")]
pub enum PortingStatus {
    /// Being filled in by its owner; reserves nothing yet.
    Draft,
    /// Sent; its numbers are reserved for it. Waiting for the losing carrier.
    Submitted,
    /// The losing carrier is working on it.
    InProcess,
    /// The losing carrier confirmed the activation (FOC) date: `confirmedFocDate`.
    FocDateConfirmed,
    /// Done: the numbers are the owner's virtual numbers.
    Ported,
    /// The losing carrier refused it for a reason the owner can fix
    /// (`exceptionReason`); fix the details and submit again.
    Exception,
    /// Given up; its numbers are free again.
    Cancelled,
}

/// Why a number cannot be ported in.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum PortabilityIssue {
    /// Not a valid phone number.
    InvalidNumber,
    /// Already a virtual number here (yours or someone else's).
    AlreadyHeld,
    /// Already in a submitted port-in order, or in one of your drafts.
    AlreadyInAnOrder,
    /// From a country ports are not taken from (`PORTING_COUNTRIES`).
    UnsupportedCountry,
}

impl From<porting_service::PortabilityIssue> for PortabilityIssue {
    fn from(issue: porting_service::PortabilityIssue) -> Self {
        use porting_service::PortabilityIssue as Issue;
        match issue {
            Issue::InvalidNumber => PortabilityIssue::InvalidNumber,
            Issue::AlreadyHeld => PortabilityIssue::AlreadyHeld,
            Issue::AlreadyInAnOrder => PortabilityIssue::AlreadyInAnOrder,
            Issue::UnsupportedCountry => PortabilityIssue::UnsupportedCountry,
        }
    }
}

/// Something the losing carrier demands that an order still lacks.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "Requirement")]
pub enum PortingRequirement {
    AccountHolderName,
    AccountNumber,
    AccountPin,
    /// Street, locality and postal code.
    ServiceAddress,
    AuthorizedPersonName,
    /// Missing, or sooner than the notice carriers need (`earliestPortingFocDate`).
    RequestedFocDate,
}

/// What an entry of an order's timeline records.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "porting_events::PortingEventKind")]
pub enum PortingEventKind {
    /// The order was made, as a draft.
    Created,
    /// Its details changed; `comment` names the fields (never their values).
    Updated,
    /// It moved from `fromStatus` to `toStatus`.
    StatusChanged,
    /// Someone wrote `comment`.
    Comment,
}

/// In which capacity someone acted on an order.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "porting_events::ActorRole")]
pub enum PortingActorRole {
    /// The order's owner.
    Owner,
    /// Staff: as the losing carrier's side, or for the owner.
    Staff,
    /// The server, activating the order on its FOC date.
    System,
}

/// The answer for one number of `checkPortability`.
pub struct PortabilityCheck(Portability);

/// Whether one number can be ported in now, and if not, why.
#[Object]
impl PortabilityCheck {
    /// The number as it was sent.
    async fn input(&self) -> &str {
        &self.0.input
    }

    /// The number in E.164; `null` when it is not a valid number.
    async fn phone_number(&self) -> Option<&str> {
        self.0.number.as_ref().map(E164::as_str)
    }

    /// ISO 3166-1 alpha-2 country of the number.
    async fn country_code(&self) -> Option<String> {
        self.0.number.as_ref().and_then(E164::country_code)
    }

    /// What kind of line it is, from libphonenumber's metadata (orders are
    /// split by country and by this).
    async fn number_type(&self) -> Option<PhoneNumberType> {
        self.0.number.as_ref().map(|number| number.number_type().into())
    }

    /// Whether it can be ported in now.
    async fn portable(&self) -> bool {
        self.0.issue.is_none()
    }

    /// Why not, when it cannot.
    async fn issue(&self) -> Option<PortabilityIssue> {
        self.0.issue.map(Into::into)
    }

    /// Why not, for a person.
    async fn message(&self) -> Option<&str> {
        self.0.message.as_deref()
    }
}

/// Where the numbers are in service, as the losing carrier has it.
#[derive(SimpleObject)]
pub struct ServiceAddress {
    street: String,
    locality: String,
    /// State, province or county.
    region: Option<String>,
    postal_code: String,
}

/// The service address of an order.
#[derive(InputObject)]
pub struct ServiceAddressInput {
    /// Street and number, as on the losing carrier's bill.
    street: String,
    /// City or town.
    locality: String,
    /// State, province or county.
    region: Option<String>,
    postal_code: String,
}

impl ServiceAddressInput {
    fn parse(self) -> Result<rules::ServiceAddress, AppError> {
        Ok(rules::ServiceAddress {
            street: rules::required_text("serviceAddress.street", &self.street)?,
            locality: rules::required_text("serviceAddress.locality", &self.locality)?,
            region: rules::text("serviceAddress.region", self.region.as_deref())?,
            postal_code: rules::required_text("serviceAddress.postalCode", &self.postal_code)?,
        })
    }
}

/// A port-in order: numbers held at another carrier, and what that carrier
/// needs to release them.
#[derive(Clone)]
pub struct PortingOrder(porting_orders::Model);

impl From<porting_orders::Model> for PortingOrder {
    fn from(model: porting_orders::Model) -> Self {
        PortingOrder(model)
    }
}

impl ConnectionNode for PortingOrder {
    const NAME: &'static str = "PortingOrder";
}

/// A port-in order: numbers held at another carrier, and what that carrier
/// needs to release them. It moves DRAFT → SUBMITTED → IN_PROCESS →
/// FOC_DATE_CONFIRMED → PORTED, or to EXCEPTION (fix and submit again) or CANCELLED.
#[Object]
impl PortingOrder {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::PortingOrder, self.0.id)
    }

    async fn status(&self) -> PortingStatus {
        self.0.status.into()
    }

    /// Who the numbers will belong to.
    async fn owner(&self, ctx: &Context<'_>) -> Result<User, AppError> {
        let owner = ctx
            .loader::<UserLoader>()?
            .load_one(self.0.owner_id)
            .await
            .map_err(unshare)?;
        owner.map(User::from).ok_or(AppError::NotFound("no such user"))
    }

    /// ISO 3166-1 alpha-2 country of every number of the order.
    async fn country_code(&self) -> &str {
        &self.0.country_code
    }

    /// The type of every number of the order.
    async fn number_type(&self) -> PhoneNumberType {
        crate::numbers::PhoneNumberType::from_name(&self.0.number_type).into()
    }

    /// The numbers, in the order they were given.
    async fn phone_numbers(&self, ctx: &Context<'_>) -> Result<Vec<PortingOrderNumber>, AppError> {
        let numbers = ctx
            .loader::<PortingNumbersLoader>()?
            .load_one(self.0.id)
            .await
            .map_err(unshare)?;
        Ok(numbers
            .unwrap_or_default()
            .into_iter()
            .map(PortingOrderNumber)
            .collect())
    }

    /// The account holder's name as the losing carrier has it.
    async fn account_holder_name(&self) -> Option<&str> {
        self.0.account_holder_name.as_deref()
    }

    /// The account number at the losing carrier.
    async fn account_number(&self) -> Option<&str> {
        self.0.account_number.as_deref()
    }

    /// Whether the account PIN has been given. The PIN itself is never returned.
    async fn account_pin_set(&self) -> bool {
        self.0.account_pin.is_some()
    }

    async fn service_address(&self) -> Option<ServiceAddress> {
        let order = &self.0;
        Some(ServiceAddress {
            street: order.service_street.clone()?,
            locality: order.service_locality.clone()?,
            region: order.service_region.clone(),
            postal_code: order.service_postal_code.clone()?,
        })
    }

    /// Who at the customer authorises the port.
    async fn authorized_person_name(&self) -> Option<&str> {
        self.0.authorized_person_name.as_deref()
    }

    /// The activation (FOC) date the owner asked for.
    async fn requested_foc_date(&self) -> Option<Date> {
        self.0.requested_foc_date.map(Date)
    }

    /// The activation date the losing carrier confirmed; the numbers arrive on
    /// it (in UTC) unless staff complete the port earlier.
    async fn confirmed_foc_date(&self) -> Option<Date> {
        self.0.confirmed_foc_date.map(Date)
    }

    /// Why the losing carrier refused the order (EXCEPTION): what to fix.
    async fn exception_reason(&self) -> Option<&str> {
        self.0.exception_reason.as_deref()
    }

    /// What a DRAFT or EXCEPTION order still lacks before it can be submitted
    /// (empty: ready; always empty once submitted).
    async fn requirements(&self, ctx: &Context<'_>) -> Result<Vec<PortingRequirement>, AppError> {
        let porting = ctx.service::<PortingService>()?;
        Ok(porting.requirements(&self.0).into_iter().map(Into::into).collect())
    }

    /// What happened to the order, oldest first: status changes, edits and comments.
    async fn events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<PortingOrderEvent>, AppError> {
        let page = RelayArgs {
            first,
            after,
            last,
            before,
        };
        let request = page.page_request::<EventKey>()?;
        let request = crate::paging::PageRequest {
            direction: request.direction,
            size: request.size,
            after: request.after.map(|key| key.seq),
            before: request.before.map(|key| key.seq),
        };
        let porting = ctx.service::<PortingService>()?.clone();
        let rows = porting.events_of(self.0.id, &request).await?;
        let order_id = self.0.id;
        let count = async move { porting.count_events(order_id).await };
        Ok(Connection::new(rows, EventKey::of, PortingOrderEvent::from, count))
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// When it was last submitted.
    async fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.0.submitted_at
    }

    /// When it was ported.
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }
}

/// One number of a port-in order.
#[derive(Clone)]
pub struct PortingOrderNumber(porting_order_numbers::Model);

/// One number of a port-in order.
#[Object]
impl PortingOrderNumber {
    /// The number in E.164.
    async fn phone_number(&self) -> &str {
        &self.0.phone_number
    }

    /// The number written for people to read.
    async fn formatted(
        &self,
        #[graphql(default_with = "Some(NumberFormat::International)")] style: Option<NumberFormat>,
    ) -> String {
        match E164::parse(&self.0.phone_number, None) {
            Ok(number) => number.format(style.unwrap_or_default().into()),
            Err(_) => self.0.phone_number.clone(),
        }
    }

    /// The virtual number the port made of it (once PORTED, while it is held).
    async fn virtual_number(&self, ctx: &Context<'_>) -> Result<Option<VirtualNumber>, AppError> {
        let Some(id) = self.0.virtual_number_id else {
            return Ok(None);
        };
        let number = ctx.loader::<NumberLoader>()?.load_one(id).await.map_err(unshare)?;
        Ok(number.map(VirtualNumber::from))
    }
}

/// Where an event sits in the porting timeline: its `seq`, and its id so a
/// subscription can check the viewer may see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventKey {
    seq: i64,
    id: Uuid,
}

impl EventKey {
    fn of(event: &porting_events::Model) -> Self {
        EventKey {
            seq: event.seq,
            id: event.id,
        }
    }
}

impl CursorKey for EventKey {
    fn to_cursor_text(&self) -> String {
        format!("porting:{}:{}", self.seq, self.id)
    }

    fn from_cursor_text(text: &str) -> Option<Self> {
        let (seq, id) = text.strip_prefix("porting:")?.split_once(':')?;
        Some(EventKey {
            seq: seq.parse().ok()?,
            id: id.parse().ok()?,
        })
    }
}

/// An entry of an order's timeline.
#[derive(Clone)]
pub struct PortingOrderEvent(porting_events::Model);

impl From<porting_events::Model> for PortingOrderEvent {
    fn from(model: porting_events::Model) -> Self {
        PortingOrderEvent(model)
    }
}

impl ConnectionNode for PortingOrderEvent {
    const NAME: &'static str = "PortingOrderEvent";
}

/// An entry of an order's timeline: a status change, an edit or a comment.
#[Object]
impl PortingOrderEvent {
    /// Opaque id.
    async fn id(&self) -> ID {
        ids::encode(NodeType::PortingEvent, self.0.id)
    }

    /// Pass it as `portingOrderUpdated(after:)` to resume from this event.
    async fn cursor(&self) -> String {
        EventKey::of(&self.0).encode_cursor()
    }

    async fn kind(&self) -> PortingEventKind {
        self.0.kind.into()
    }

    /// The status before (status changes only).
    async fn from_status(&self) -> Option<PortingStatus> {
        self.0.from_status.map(Into::into)
    }

    /// The status after (status changes and creation).
    async fn to_status(&self) -> Option<PortingStatus> {
        self.0.to_status.map(Into::into)
    }

    /// A comment, the reason for an exception, or the fields an edit changed.
    async fn comment(&self) -> Option<&str> {
        self.0.comment.as_deref()
    }

    async fn actor_role(&self) -> PortingActorRole {
        self.0.actor_role.into()
    }

    /// Who acted (`null` for the server itself).
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<User>, AppError> {
        let Some(actor) = self.0.actor_id else {
            return Ok(None);
        };
        let user = ctx.loader::<UserLoader>()?.load_one(actor).await.map_err(unshare)?;
        Ok(user.map(User::from))
    }

    /// The order as it is now.
    async fn order(&self, ctx: &Context<'_>) -> Result<PortingOrder, AppError> {
        let order = ctx
            .loader::<PortingOrderLoader>()?
            .load_one(self.0.order_id)
            .await
            .map_err(unshare)?;
        order.map(PortingOrder::from).ok_or(AppError::NotFound(ORDER_NOT_FOUND))
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Narrows a list of port-in orders.
#[derive(InputObject, Default)]
pub struct PortingOrderFilter {
    /// Only orders in one of these statuses.
    status: Option<Vec<PortingStatus>>,
    /// Staff only (`portingOrders`): one user's orders.
    owner_id: Option<ID>,
}

/// A new port-in order. Every detail may be given now or later with `updatePortingOrder`.
#[derive(InputObject)]
pub struct CreatePortingOrderInput {
    /// The numbers to bring, in any common spelling (at most 100). Numbers of
    /// different countries or types become separate orders.
    phone_numbers: Vec<String>,
    /// ISO 3166-1 alpha-2 code (`US`) for numbers written without a country code.
    country: Option<String>,
    /// Staff only: the user the numbers will belong to.
    owner_id: Option<ID>,
    account_holder_name: Option<String>,
    account_number: Option<String>,
    /// Write-only: stored for the losing carrier, never returned.
    account_pin: Option<String>,
    service_address: Option<ServiceAddressInput>,
    authorized_person_name: Option<String>,
    /// At least `earliestPortingFocDate`.
    requested_foc_date: Option<Date>,
}

/// Changes to a DRAFT order (or one in EXCEPTION); omitted fields stay, `null` clears.
#[derive(InputObject)]
pub struct UpdatePortingOrderInput {
    account_holder_name: MaybeUndefined<String>,
    account_number: MaybeUndefined<String>,
    /// Write-only: stored for the losing carrier, never returned.
    account_pin: MaybeUndefined<String>,
    service_address: MaybeUndefined<ServiceAddressInput>,
    authorized_person_name: MaybeUndefined<String>,
    requested_foc_date: MaybeUndefined<Date>,
}

fn text_change(field: &'static str, value: MaybeUndefined<String>) -> Result<Change<String>, AppError> {
    Ok(match value {
        MaybeUndefined::Undefined => Change::Keep,
        MaybeUndefined::Null => Change::Clear,
        MaybeUndefined::Value(text) => match rules::text(field, Some(&text))? {
            Some(text) => Change::Set(text),
            None => Change::Clear,
        },
    })
}

fn pin_change(value: MaybeUndefined<String>) -> Result<Change<String>, AppError> {
    Ok(match value {
        MaybeUndefined::Undefined => Change::Keep,
        MaybeUndefined::Null => Change::Clear,
        MaybeUndefined::Value(pin) => Change::Set(rules::pin(&pin)?),
    })
}

impl UpdatePortingOrderInput {
    fn parse(self) -> Result<DetailChanges, AppError> {
        Ok(DetailChanges {
            account_holder_name: text_change("accountHolderName", self.account_holder_name)?,
            account_number: text_change("accountNumber", self.account_number)?,
            account_pin: pin_change(self.account_pin)?,
            service_address: match self.service_address {
                MaybeUndefined::Undefined => Change::Keep,
                MaybeUndefined::Null => Change::Clear,
                MaybeUndefined::Value(address) => Change::Set(address.parse()?),
            },
            authorized_person_name: text_change("authorizedPersonName", self.authorized_person_name)?,
            requested_foc_date: match self.requested_foc_date {
                MaybeUndefined::Undefined => Change::Keep,
                MaybeUndefined::Null => Change::Clear,
                MaybeUndefined::Value(date) => Change::Set(date.0),
            },
        })
    }
}

fn from_option<T>(value: Option<T>) -> MaybeUndefined<T> {
    value.map_or(MaybeUndefined::Undefined, MaybeUndefined::Value)
}

/// The region national spellings are read in: `country`, or `DEFAULT_REGION`.
fn region(ctx: &Context<'_>, country: Option<&str>) -> Result<DefaultRegion, AppError> {
    match country.map(str::trim).filter(|code| !code.is_empty()) {
        Some(code) => Ok(DefaultRegion(Some(
            code.parse::<Region>()
                .map_err(|error| AppError::bad_input("country", error.0))?,
        ))),
        None => Ok(*ctx.service::<DefaultRegion>()?),
    }
}

fn order_id(id: &ID) -> Result<Uuid, AppError> {
    ids::decode_existing(id, NodeType::PortingOrder, "id", ORDER_NOT_FOUND)
}

fn address(ctx: &Context<'_>) -> Result<String, AppError> {
    Ok(ctx.service::<ClientAddress>()?.0.to_string())
}

/// The viewer as staff playing the losing carrier's part.
fn carrier(ctx: &Context<'_>) -> Result<Staff, AppError> {
    Staff::require(
        ctx.viewer()?,
        Some(address(ctx)?),
        "only staff may move a port through the losing carrier's steps",
    )
}

fn comment(value: Option<String>) -> Result<Option<String>, AppError> {
    rules::optional_comment("comment", value.as_deref())
}

#[derive(Default)]
pub struct PortingQuery;

#[Object]
impl PortingQuery {
    /// Whether each number could be ported in now, and if not, why. Changes nothing.
    async fn check_portability(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "At most 100 numbers, in any common spelling.")] phone_numbers: Vec<String>,
        #[graphql(desc = "ISO 3166-1 alpha-2 code for numbers written without a country code.")] country: Option<
            String,
        >,
    ) -> Result<Vec<PortabilityCheck>, AppError> {
        let viewer = ctx.viewer()?;
        if phone_numbers.len() > rules::MAX_NUMBERS {
            return Err(AppError::bad_input(
                "phoneNumbers",
                format!("check at most {} numbers at once", rules::MAX_NUMBERS),
            ));
        }
        let region = region(ctx, country.as_deref())?;
        let inputs = phone_numbers
            .into_iter()
            .map(|input| {
                let parsed = E164::parse(&input, region.0).map_err(|error| error.0);
                (input, parsed)
            })
            .collect();
        let answers = ctx.service::<PortingService>()?.check(viewer.user_id, inputs).await?;
        Ok(answers.into_iter().map(PortabilityCheck).collect())
    }

    /// The earliest activation (FOC) date an order may ask for today: the
    /// notice carriers need, in business days (`PORTING_MIN_BUSINESS_DAYS`).
    async fn earliest_porting_foc_date(&self, ctx: &Context<'_>) -> Result<Date, AppError> {
        ctx.viewer()?;
        Ok(Date(ctx.service::<PortingService>()?.earliest_foc_date()))
    }

    /// One of your port-in orders (staff: anyone's); `null` when it does not exist or is not yours.
    async fn porting_order(&self, ctx: &Context<'_>, id: ID) -> Result<Option<PortingOrder>, AppError> {
        let viewer = ctx.viewer()?;
        let Some(key) = ids::decode_as(&id, NodeType::PortingOrder, "id")? else {
            return Ok(None);
        };
        Ok(ctx
            .service::<PortingService>()?
            .find_visible(viewer, key)
            .await?
            .map(PortingOrder::from))
    }

    /// Your port-in orders, oldest first.
    async fn my_porting_orders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<PortingOrderFilter>,
    ) -> Result<Connection<PortingOrder>, AppError> {
        let viewer = ctx.viewer()?;
        let mut filter = order_filter(filter)?;
        filter.owner_id = Some(viewer.user_id);
        list_orders(
            ctx,
            RelayArgs {
                first,
                after,
                last,
                before,
            },
            filter,
        )
        .await
    }

    /// Staff: every port-in order, oldest first (or one user's, with `filter.ownerId`).
    async fn porting_orders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<PortingOrderFilter>,
    ) -> Result<Connection<PortingOrder>, AppError> {
        Staff::require(ctx.viewer()?, None, "only staff may list everyone's port-in orders")?;
        let filter = order_filter(filter)?;
        list_orders(
            ctx,
            RelayArgs {
                first,
                after,
                last,
                before,
            },
            filter,
        )
        .await
    }
}

fn order_filter(filter: Option<PortingOrderFilter>) -> Result<OrderFilter, AppError> {
    let filter = filter.unwrap_or_default();
    let owner_id = match &filter.owner_id {
        // An id of another type names no user: a list of nobody's orders.
        Some(id) => Some(ids::decode_as(id, NodeType::User, "filter.ownerId")?.unwrap_or(Uuid::nil())),
        None => None,
    };
    Ok(OrderFilter {
        status: filter
            .status
            .map(|statuses| statuses.into_iter().map(Into::into).collect()),
        owner_id,
    })
}

async fn list_orders(
    ctx: &Context<'_>,
    page: RelayArgs,
    filter: OrderFilter,
) -> Result<Connection<PortingOrder>, AppError> {
    let viewer = *ctx.viewer()?;
    let porting = ctx.service::<PortingService>()?.clone();
    let request = page.page_request()?;
    let rows = porting.list(&viewer, &filter, &request).await?;
    let count = async move { porting.count(&viewer, &filter).await };
    Ok(Connection::new(rows, |row| row.id, PortingOrder::from, count))
}

#[derive(Default)]
pub struct PortingMutation;

#[Object]
impl PortingMutation {
    /// Starts porting numbers in: DRAFT orders owned by you (staff: by
    /// `ownerId`), one per country and number type, as carriers take them.
    /// A number already held here or already in an order is `CONFLICT` with
    /// `extensions.reason`; an invalid or unsupported one `BAD_USER_INPUT`;
    /// `extensions.field` is `phoneNumbers.<index>`.
    async fn create_porting_order(
        &self,
        ctx: &Context<'_>,
        input: CreatePortingOrderInput,
    ) -> Result<Vec<PortingOrder>, AppError> {
        let viewer = ctx.viewer()?;
        if input.phone_numbers.len() > rules::MAX_NUMBERS {
            return Err(AppError::bad_input(
                "phoneNumbers",
                format!("an order may hold at most {} numbers", rules::MAX_NUMBERS),
            ));
        }
        let region = region(ctx, input.country.as_deref())?;
        let numbers = input
            .phone_numbers
            .iter()
            .enumerate()
            .map(|(index, text)| {
                E164::parse(text, region.0)
                    .map(|number| (index, number))
                    .map_err(|error| AppError::bad_input(format!("phoneNumbers.{index}"), error.0))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let owner_id = match &input.owner_id {
            Some(id) => Some(
                ids::decode_as(id, NodeType::User, "ownerId")?
                    .ok_or_else(|| AppError::bad_input("ownerId", "no active user has that id"))?,
            ),
            None => None,
        };
        let details = UpdatePortingOrderInput {
            account_holder_name: from_option(input.account_holder_name),
            account_number: from_option(input.account_number),
            account_pin: from_option(input.account_pin),
            service_address: from_option(input.service_address),
            authorized_person_name: from_option(input.authorized_person_name),
            requested_foc_date: from_option(input.requested_foc_date),
        }
        .parse()?;
        let orders = ctx
            .service::<PortingService>()?
            .create(viewer, owner_id, numbers, details)
            .await?;
        Ok(orders.into_iter().map(PortingOrder::from).collect())
    }

    /// Fills in or corrects a DRAFT order, or one in EXCEPTION.
    async fn update_porting_order(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdatePortingOrderInput,
    ) -> Result<PortingOrder, AppError> {
        let viewer = ctx.viewer()?;
        let key = order_id(&id)?;
        let changes = input.parse()?;
        let order = ctx
            .service::<PortingService>()?
            .update(viewer, key, changes, Some(address(ctx)?))
            .await?;
        Ok(order.into())
    }

    /// Sends a complete DRAFT order (or a fixed EXCEPTION) to the losing carrier:
    /// SUBMITTED, with its numbers reserved for it.
    async fn submit_porting_order(
        &self,
        ctx: &Context<'_>,
        id: ID,
        comment: Option<String>,
    ) -> Result<PortingOrder, AppError> {
        let viewer = ctx.viewer()?;
        let key = order_id(&id)?;
        let order = ctx
            .service::<PortingService>()?
            .submit(viewer, key, self::comment(comment)?, Some(address(ctx)?))
            .await?;
        Ok(order.into())
    }

    /// Gives up on an order before the losing carrier confirms a date; its
    /// numbers are free again.
    async fn cancel_porting_order(
        &self,
        ctx: &Context<'_>,
        id: ID,
        comment: Option<String>,
    ) -> Result<PortingOrder, AppError> {
        let viewer = ctx.viewer()?;
        let key = order_id(&id)?;
        let order = ctx
            .service::<PortingService>()?
            .cancel(viewer, key, self::comment(comment)?, Some(address(ctx)?))
            .await?;
        Ok(order.into())
    }

    /// Writes on an order's timeline, for its owner and staff.
    async fn comment_on_porting_order(
        &self,
        ctx: &Context<'_>,
        id: ID,
        comment: String,
    ) -> Result<PortingOrderEvent, AppError> {
        let viewer = ctx.viewer()?;
        let key = order_id(&id)?;
        let body = rules::comment("comment", &comment)?;
        let event = ctx.service::<PortingService>()?.comment(viewer, key, body).await?;
        Ok(event.into())
    }

    /// Staff, for the losing carrier: takes a SUBMITTED order up (IN_PROCESS).
    async fn start_porting_order(
        &self,
        ctx: &Context<'_>,
        id: ID,
        comment: Option<String>,
    ) -> Result<PortingOrder, AppError> {
        let staff = carrier(ctx)?;
        let key = order_id(&id)?;
        let order = ctx
            .service::<PortingService>()?
            .start(staff, key, self::comment(comment)?)
            .await?;
        Ok(order.into())
    }

    /// Staff, for the losing carrier: records the activation date it confirmed
    /// (FOC_DATE_CONFIRMED). The numbers arrive on that date (UTC).
    async fn confirm_porting_order_foc_date(
        &self,
        ctx: &Context<'_>,
        id: ID,
        foc_date: Date,
        comment: Option<String>,
    ) -> Result<PortingOrder, AppError> {
        let staff = carrier(ctx)?;
        let key = order_id(&id)?;
        let order = ctx
            .service::<PortingService>()?
            .confirm_foc_date(staff, key, foc_date.0, self::comment(comment)?)
            .await?;
        Ok(order.into())
    }

    /// Staff: completes a port now (PORTED): every number becomes the owner's
    /// virtual number at once. If one is held by someone by then, nothing is
    /// created and the order comes back in EXCEPTION naming it.
    async fn complete_porting_order(
        &self,
        ctx: &Context<'_>,
        id: ID,
        comment: Option<String>,
    ) -> Result<PortingOrder, AppError> {
        let staff = carrier(ctx)?;
        let key = order_id(&id)?;
        let order = ctx
            .service::<PortingService>()?
            .complete(Actor::Carrier(staff), key, self::comment(comment)?)
            .await?;
        Ok(order.into())
    }

    /// Staff, for the losing carrier: sends an IN_PROCESS or FOC_DATE_CONFIRMED
    /// order back to its owner (EXCEPTION) with a reason they can act on.
    async fn raise_porting_order_exception(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> Result<PortingOrder, AppError> {
        let staff = carrier(ctx)?;
        let key = order_id(&id)?;
        let reason = rules::comment("reason", &reason)?;
        let order = ctx
            .service::<PortingService>()?
            .raise_exception(staff, key, reason)
            .await?;
        Ok(order.into())
    }
}

#[derive(Default)]
pub struct PortingSubscription;

#[Subscription]
impl PortingSubscription {
    /// Each change to your port-in orders (staff: everyone's), or to one order,
    /// in the order it happened: status changes, edits and comments.
    ///
    /// With `after` (the `cursor` of an event, from this feed or from
    /// `PortingOrder.events`), every event after it is replayed first, then new
    /// ones follow live, with no gap and no duplicate.
    async fn porting_order_updated(
        &self,
        ctx: &Context<'_>,
        porting_order_id: Option<ID>,
        after: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<PortingOrderEvent>> + use<>> {
        Ok(subscribe(ctx, porting_order_id, after).await?)
    }
}

async fn subscribe(
    ctx: &Context<'_>,
    order: Option<ID>,
    after: Option<String>,
) -> Result<impl Stream<Item = async_graphql::Result<PortingOrderEvent>> + use<>, AppError> {
    let viewer = *ctx.viewer()?;
    let porting = ctx.service::<PortingService>()?;
    let order_id = match order {
        Some(id) => {
            let key = ids::decode_existing(&id, NodeType::PortingOrder, "portingOrderId", ORDER_NOT_FOUND)?;
            let order = porting.find_visible(&viewer, key).await?;
            Some(order.ok_or(AppError::NotFound(ORDER_NOT_FOUND))?.id)
        }
        None => None,
    };
    let after = match after {
        Some(cursor) => {
            // Another user's event reads as a cursor that is not from this feed.
            let not_ours = || AppError::bad_input("after", "`after` is not the cursor of a porting event you can see");
            let key = EventKey::decode_cursor(&cursor).ok_or_else(not_ours)?;
            let seq = porting.seq_of(&viewer, key.id).await?.ok_or_else(not_ours)?;
            if seq != key.seq {
                return Err(not_ours());
            }
            Some(seq)
        }
        None => None,
    };
    Ok(porting.feed(viewer, order_id, after).map(|event| {
        event
            .map(|event| PortingOrderEvent::from(event.as_ref().clone()))
            .map_err(async_graphql::Error::from)
    }))
}
