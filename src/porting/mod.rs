//! Number porting: port-in orders that bring numbers a customer holds at
//! another carrier. The rules that need no database (`rules`: the workflow,
//! requirements, business days, inputs), the rules that do (`service`:
//! ownership, reservations, atomic completion, the timeline), the timeline as
//! a live feed (`events`), batched lookups (`loaders`) and the GraphQL API
//! (`graphql`).

pub mod events;
pub mod graphql;
pub mod loaders;
pub mod rules;
pub mod service;

pub use events::PortingEvents;
pub use service::{Activation, Actor, ORDER_NOT_FOUND, PortingService, PortingSettings};
