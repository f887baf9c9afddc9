//! Virtual numbers in GraphQL: the `VirtualNumber` type, its queries and mutations.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    DefaultRegion, E164, FriendlyName, NUMBER_NOT_FOUND, NewNumber, NumberChanges, NumberFilter, NumberSearch,
    NumberService, Region,
    display_graphql::{NumberFormat, PhoneNumberType},
};
use crate::{
    accounts::{graphql::User, loaders::UserLoader},
    calls::graphql::{CallLog, CallLogFilter, number_call_logs},
    entity::virtual_numbers,
    error::AppError,
    graphql::{
        Connection, ConnectionNode, ContextExt, RelayArgs,
        ids::{self, NodeType},
        loaders::unshare,
    },
    porting::{graphql::PortingOrder, loaders::PortingOrderLoader},
};

/// A phone number a user holds on this platform.
#[derive(Clone)]
pub struct VirtualNumber(virtual_numbers::Model);

impl From<virtual_numbers::Model> for VirtualNumber {
    fn from(model: virtual_numbers::Model) -> Self {
        VirtualNumber(model)
    }
}

impl VirtualNumber {
    /// The stored number as libphonenumber reads it (`None` only for a row that
    /// `switchboard numbers check` would report).
    fn e164(&self) -> Option<E164> {
        E164::parse(&self.0.phone_number, None).ok()
    }
}

impl ConnectionNode for VirtualNumber {
    const NAME: &'static str = "VirtualNumber";
}

#[Object]
impl VirtualNumber {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::VirtualNumber, self.0.id)
    }

    /// The number in E.164, such as `+14155550100`.
    async fn phone_number(&self) -> &str {
        &self.0.phone_number
    }

    /// What kind of line the number is (mobile, landline, toll free, …), as
    /// libphonenumber's numbering metadata classifies it.
    async fn number_type(&self) -> PhoneNumberType {
        self.e164()
            .map_or(super::PhoneNumberType::Unknown, |number| number.number_type())
            .into()
    }

    /// The number written for people to read, in `style` (`null` is the default).
    async fn formatted(
        &self,
        #[graphql(default_with = "Some(NumberFormat::International)")] style: Option<NumberFormat>,
    ) -> String {
        match self.e164() {
            Some(number) => number.format(style.unwrap_or_default().into()),
            None => self.0.phone_number.clone(),
        }
    }

    /// A label the owner chose.
    async fn friendly_name(&self) -> Option<&str> {
        self.0.friendly_name.as_deref()
    }

    /// ISO 3166-1 alpha-2 country of the number, derived from it.
    async fn country_code(&self) -> Option<&str> {
        self.0.country_code.as_deref()
    }

    /// Inactive numbers stay listed but take no new calls.
    async fn is_active(&self) -> bool {
        self.0.is_active
    }

    /// Who holds the number.
    async fn owner(&self, ctx: &Context<'_>) -> Result<User, AppError> {
        ctx.viewer()?;
        let owner = ctx
            .loader::<UserLoader>()?
            .load_one(self.0.owner_id)
            .await
            .map_err(unshare)?;
        owner.map(User::from).ok_or(AppError::NotFound("no such user"))
    }

    /// This number's calls, newest first (batched with the other numbers on the page).
    async fn call_logs(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<CallLogFilter>,
    ) -> Result<Connection<CallLog>, AppError> {
        let page = RelayArgs {
            first,
            after,
            last,
            before,
        };
        number_call_logs(ctx, self.0.id, page, filter).await
    }

    /// The port-in order the number arrived by, if it was ported in.
    async fn porting_order(&self, ctx: &Context<'_>) -> Result<Option<PortingOrder>, AppError> {
        let Some(id) = self.0.porting_order_id else {
            return Ok(None);
        };
        let order = ctx
            .loader::<PortingOrderLoader>()?
            .load_one(id)
            .await
            .map_err(unshare)?;
        Ok(order.map(PortingOrder::from))
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// Narrows a list of virtual numbers.
#[derive(InputObject, Default)]
pub struct VirtualNumberFilter {
    /// Only active (true) or only inactive (false) numbers.
    is_active: Option<bool>,
    /// Text in the friendly name (any case) or digits in the number.
    search: Option<String>,
}

/// A number to take.
#[derive(InputObject)]
pub struct CreateVirtualNumberInput {
    /// Any common spelling: `+1 415 555 0100`, `(415) 555-0100` with `country`, ...
    phone_number: String,
    /// ISO 3166-1 alpha-2 code (`US`) for numbers written without a country code.
    country: Option<String>,
    /// A label, up to 64 characters.
    friendly_name: Option<String>,
    /// Staff only: the user who will own the number.
    owner_id: Option<ID>,
}

/// Changes to a number; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateVirtualNumberInput {
    /// A new label; `null` or an empty string clears it.
    friendly_name: MaybeUndefined<String>,
    /// Turn the number off (no new calls) or on again.
    is_active: Option<bool>,
}

/// One page of `owner_id`'s numbers as a connection (shared by `myVirtualNumbers` and `User.virtualNumbers`).
pub async fn list_numbers(
    ctx: &Context<'_>,
    owner_id: Uuid,
    page: RelayArgs,
    filter: Option<VirtualNumberFilter>,
) -> Result<Connection<VirtualNumber>, AppError> {
    let viewer = *ctx.viewer()?;
    let numbers = ctx.service::<NumberService>()?.clone();
    let request = page.page_request()?;
    let filter = match filter {
        Some(filter) => NumberFilter::try_from(filter)?,
        None => NumberFilter::default(),
    };
    let rows = numbers.list(&viewer, owner_id, &filter, &request).await?;
    let count = async move { numbers.count(&viewer, owner_id, &filter).await };
    Ok(Connection::new(rows, |row| row.id, VirtualNumber::from, count))
}

impl TryFrom<VirtualNumberFilter> for NumberFilter {
    type Error = AppError;

    fn try_from(filter: VirtualNumberFilter) -> Result<Self, AppError> {
        Ok(NumberFilter {
            is_active: filter.is_active,
            search: NumberSearch::optional(filter.search.as_deref())?,
        })
    }
}

fn number_id(id: &ID) -> Result<Uuid, AppError> {
    ids::decode_existing(id, NodeType::VirtualNumber, "id", NUMBER_NOT_FOUND)
}

#[derive(Default)]
pub struct NumberQuery;

#[Object]
impl NumberQuery {
    /// The signed-in user's unreleased numbers, oldest first.
    async fn my_virtual_numbers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<VirtualNumberFilter>,
    ) -> Result<Connection<VirtualNumber>, AppError> {
        let owner_id = ctx.viewer()?.user_id;
        let page = RelayArgs {
            first,
            after,
            last,
            before,
        };
        list_numbers(ctx, owner_id, page, filter).await
    }

    /// One of your numbers (staff: anyone's); `null` when it does not exist or is not yours.
    async fn virtual_number(&self, ctx: &Context<'_>, id: ID) -> Result<Option<VirtualNumber>, AppError> {
        let viewer = ctx.viewer()?;
        let Some(key) = ids::decode_as(&id, NodeType::VirtualNumber, "id")? else {
            return Ok(None);
        };
        Ok(ctx
            .service::<NumberService>()?
            .find_visible(viewer, key)
            .await?
            .map(VirtualNumber::from))
    }
}

#[derive(Default)]
pub struct NumberMutation;

#[Object]
impl NumberMutation {
    /// Takes a number. `CONFLICT` when someone already holds it (in any spelling).
    async fn create_virtual_number(
        &self,
        ctx: &Context<'_>,
        input: CreateVirtualNumberInput,
    ) -> Result<VirtualNumber, AppError> {
        let viewer = ctx.viewer()?;
        let region = match input.country.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(code) => DefaultRegion(Some(
                code.parse::<Region>()
                    .map_err(|e| AppError::bad_input("country", e.0))?,
            )),
            None => *ctx.service::<DefaultRegion>()?,
        };
        let phone_number = region.phone(&input.phone_number, "phoneNumber")?;
        let owner_id = match &input.owner_id {
            Some(id) => Some(
                ids::decode_as(id, NodeType::User, "ownerId")?
                    .ok_or_else(|| AppError::bad_input("ownerId", "no active user has that id"))?,
            ),
            None => None,
        };
        let number = NewNumber {
            phone_number,
            friendly_name: FriendlyName::optional(input.friendly_name.as_deref())?,
            owner_id,
        };
        Ok(ctx.service::<NumberService>()?.create(viewer, number).await?.into())
    }

    /// Renames, deactivates or reactivates one of your numbers.
    async fn update_virtual_number(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateVirtualNumberInput,
    ) -> Result<VirtualNumber, AppError> {
        let viewer = ctx.viewer()?;
        let key = number_id(&id)?;
        let changes = NumberChanges {
            friendly_name: match input.friendly_name {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(name) => Some(FriendlyName::optional(Some(&name))?),
            },
            is_active: input.is_active,
        };
        Ok(ctx
            .service::<NumberService>()?
            .update(viewer, key, changes)
            .await?
            .into())
    }

    /// Gives a number up: it leaves your lists, anyone may take it again, and its
    /// call logs stay in your history.
    async fn release_virtual_number(&self, ctx: &Context<'_>, id: ID) -> Result<bool, AppError> {
        let viewer = ctx.viewer()?;
        let key = number_id(&id)?;
        ctx.service::<NumberService>()?.release(viewer, key).await
    }
}
