//! `switchboard numbers check`: re-reads every stored number (virtual numbers and
//! users' contact numbers) with the current rules, reports those read differently
//! and, when asked, repairs the ones whose repair is unambiguous.

use anyhow::Context;
use sea_orm::{DatabaseConnection, QueryOrder, QuerySelect, prelude::*};
use uuid::Uuid;

use super::{E164, InvalidNumber, Region};
use crate::{
    entity::{self, users, virtual_numbers},
    error::violates,
};

/// Rows read per query, so a large table is never held in memory at once.
const BATCH: u64 = 1_000;

/// Where a stored number lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    VirtualNumber,
    ContactNumber,
}

/// How the current rules read a stored number that they read differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reread {
    /// A valid number, stored in another form or with another country.
    Differs {
        number: String,
        country_code: Option<String>,
    },
    /// Not a valid number any more; why.
    Invalid(String),
}

/// What became of a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repair {
    /// Reported only (no `--fix`).
    NotAttempted,
    Fixed,
    /// Left for a person; why.
    NotFixed(String),
}

/// One stored number the current rules read differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub source: Source,
    /// The virtual number's or the user's id.
    pub id: Uuid,
    pub stored: String,
    /// The stored country (virtual numbers only).
    pub stored_country: Option<String>,
    pub reread: Reread,
    pub repair: Repair,
}

/// What a check saw.
#[derive(Debug, Default)]
pub struct Report {
    pub virtual_numbers: u64,
    pub contact_numbers: u64,
    pub findings: Vec<Finding>,
}

impl Report {
    /// Findings still needing a person (or `--fix`).
    pub fn outstanding(&self) -> usize {
        self.findings.iter().filter(|f| f.repair != Repair::Fixed).count()
    }
}

/// Re-reads every stored number; with `fix`, repairs what it unambiguously can.
pub async fn check_numbers(db: &DatabaseConnection, fix: bool) -> anyhow::Result<Report> {
    let mut report = Report::default();
    check_virtual_numbers(db, fix, &mut report)
        .await
        .context("checking virtual numbers")?;
    check_contact_numbers(db, fix, &mut report)
        .await
        .context("checking contact numbers")?;
    Ok(report)
}

/// The current reading of a stored number: as international, or, for a
/// number stored without its `+`, in the country stored beside it.
fn reread(stored: &str, country: Option<&str>) -> Result<E164, InvalidNumber> {
    let international = E164::parse(stored, None);
    match (international, country.and_then(|code| code.parse::<Region>().ok())) {
        (Err(_), Some(region)) if !stored.trim_start().starts_with('+') => E164::parse(stored, Some(region)),
        (reading, _) => reading,
    }
}

fn compare(stored: &str, stored_country: Option<&str>, with_country: bool) -> Option<Reread> {
    match reread(stored, stored_country) {
        Err(why) => Some(Reread::Invalid(why.0)),
        Ok(number)
            if number.as_str() != stored || (with_country && number.country_code().as_deref() != stored_country) =>
        {
            Some(Reread::Differs {
                number: number.as_str().to_owned(),
                country_code: number.country_code(),
            })
        }
        Ok(_) => None,
    }
}

const LOST: &str = "not a valid number under the current rules, and the spelling it was read from \
                    is not kept: ask its owner for the number";

async fn check_virtual_numbers(db: &DatabaseConnection, fix: bool, report: &mut Report) -> Result<(), DbErr> {
    let mut after = None;
    loop {
        let mut query = virtual_numbers::Entity::find()
            .order_by_asc(virtual_numbers::Column::Id)
            .limit(BATCH);
        if let Some(after) = after {
            query = query.filter(virtual_numbers::Column::Id.gt(after));
        }
        let rows = query.all(db).await?;
        let Some(last) = rows.last() else { return Ok(()) };
        after = Some(last.id);
        for row in rows {
            report.virtual_numbers += 1;
            let Some(reread) = compare(&row.phone_number, row.country_code.as_deref(), true) else {
                continue;
            };
            let repair = match (&reread, fix) {
                (_, false) => Repair::NotAttempted,
                (Reread::Invalid(_), true) => Repair::NotFixed(LOST.into()),
                (Reread::Differs { number, country_code }, true) => {
                    repair_virtual_number(db, &row, number, country_code.clone()).await?
                }
            };
            report.findings.push(Finding {
                source: Source::VirtualNumber,
                id: row.id,
                stored: row.phone_number,
                stored_country: row.country_code,
                reread,
                repair,
            });
        }
    }
}

/// Rewrites one virtual number, unless another held number already is `number`
/// (the unique index has the last word, should one be taken meanwhile). The
/// update is conditional on the stored number being unchanged since it was read.
async fn repair_virtual_number(
    db: &DatabaseConnection,
    row: &virtual_numbers::Model,
    number: &str,
    country_code: Option<String>,
) -> Result<Repair, DbErr> {
    use virtual_numbers::Column;
    if row.released_at.is_none() && number != row.phone_number {
        let holder = virtual_numbers::Entity::find()
            .filter(Column::PhoneNumber.eq(number))
            .filter(Column::ReleasedAt.is_null())
            .filter(Column::Id.ne(row.id))
            .one(db)
            .await?;
        if let Some(holder) = holder {
            return Ok(Repair::NotFixed(format!(
                "virtual number {} already holds {number}; one of the two must be released first",
                holder.id
            )));
        }
    }
    let updated = virtual_numbers::Entity::update_many()
        .col_expr(Column::PhoneNumber, Expr::value(number))
        .col_expr(Column::CountryCode, Expr::value(country_code))
        .col_expr(Column::UpdatedAt, Expr::value(entity::now()))
        .filter(Column::Id.eq(row.id))
        .filter(Column::PhoneNumber.eq(row.phone_number.as_str()))
        .exec(db)
        .await;
    Ok(match updated {
        Ok(done) if done.rows_affected == 1 => Repair::Fixed,
        Ok(_) => Repair::NotFixed("it changed while being checked; run the check again".into()),
        Err(error) if violates(&error, virtual_numbers::PHONE_NUMBER_KEY) => {
            Repair::NotFixed(format!("another virtual number took {number} meanwhile"))
        }
        Err(error) => return Err(error),
    })
}

async fn check_contact_numbers(db: &DatabaseConnection, fix: bool, report: &mut Report) -> Result<(), DbErr> {
    use users::Column;
    let mut after = None;
    loop {
        let mut query = users::Entity::find()
            .filter(Column::ContactNumber.is_not_null())
            .order_by_asc(Column::Id)
            .limit(BATCH);
        if let Some(after) = after {
            query = query.filter(Column::Id.gt(after));
        }
        let rows = query.all(db).await?;
        let Some(last) = rows.last() else { return Ok(()) };
        after = Some(last.id);
        for row in rows {
            let Some(stored) = row.contact_number else { continue };
            report.contact_numbers += 1;
            let Some(reread) = compare(&stored, None, false) else {
                continue;
            };
            let repair = match (&reread, fix) {
                (_, false) => Repair::NotAttempted,
                (Reread::Invalid(_), true) => Repair::NotFixed(LOST.into()),
                (Reread::Differs { number, .. }, true) => {
                    let updated = users::Entity::update_many()
                        .col_expr(Column::ContactNumber, Expr::value(number.as_str()))
                        .col_expr(Column::UpdatedAt, Expr::value(entity::now()))
                        .filter(Column::Id.eq(row.id))
                        .filter(Column::ContactNumber.eq(stored.as_str()))
                        .exec(db)
                        .await?;
                    if updated.rows_affected == 1 {
                        Repair::Fixed
                    } else {
                        Repair::NotFixed("it changed while being checked; run the check again".into())
                    }
                }
            };
            report.findings.push(Finding {
                source: Source::ContactNumber,
                id: row.id,
                stored,
                stored_country: None,
                reread,
                repair,
            });
        }
    }
}
