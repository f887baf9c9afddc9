//! The command line: `serve` (the default), `migrate`, `create-user`, `export-schema`,
//! `seed-demo` (whose data generator is `seed`), `numbers check`, `porting activate-due`, `rollups rebuild`.

pub mod seed;

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::{
    accounts::{
        AccountService, NewAccount,
        credentials::{Email, Password, Username},
    },
    app::{self, App},
    config::Config,
    db, schema,
};

use self::seed::SeedOptions;

/// Switchboard: a GraphQL API for virtual phone numbers and their call logs.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Create a user (the first staff account, say). Asks for the password,
    /// or reads it from standard input with `--password-stdin`.
    CreateUser {
        /// Sign-in name.
        username: String,
        /// Give the user staff rights (see and act on everything).
        #[arg(long)]
        staff: bool,
        #[arg(long)]
        email: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Print the GraphQL schema (SDL); `schema.graphql` is exactly this output.
    ExportSchema,
    /// Fill the database with demo users, numbers and 90 days of calls, and print
    /// the demo users' credentials.
    SeedDemo {
        /// Demo users to create.
        #[arg(long, default_value_t = 3)]
        users: usize,
        /// Numbers per user.
        #[arg(long, default_value_t = 5)]
        numbers: usize,
        /// Calls in all, spread over every number.
        #[arg(long, default_value_t = 10_000)]
        calls: usize,
    },
    /// Work on the stored phone numbers.
    #[command(subcommand)]
    Numbers(NumbersCommand),
    /// Work on port-in orders.
    #[command(subcommand)]
    Porting(PortingCommand),
    /// Work on the statistics rollups.
    #[command(subcommand)]
    Rollups(RollupsCommand),
}

#[derive(Debug, Subcommand)]
pub enum RollupsCommand {
    /// Recompute every rollup `callStats` reads from the call logs (after
    /// loading calls into the database by hand, say). Recording waits meanwhile.
    Rebuild,
}

#[derive(Debug, Subcommand)]
pub enum PortingCommand {
    /// Complete every port-in order whose confirmed FOC date has come (UTC),
    /// as the server's own task does every `PORTING_ACTIVATION_INTERVAL`: for
    /// cron, when that task is off. An order one of whose numbers is held by
    /// then goes to EXCEPTION instead.
    ActivateDue,
}

#[derive(Debug, Subcommand)]
pub enum NumbersCommand {
    /// Re-read every stored virtual number and contact number with the current
    /// phone number rules and list those they read differently (now invalid,
    /// another E.164 form or another country). Exits with status 1 while any
    /// is left to repair.
    Check {
        /// Also correct each one whose reading is unambiguous: one valid number
        /// that no other held virtual number has. The rest are listed with why.
        #[arg(long)]
        fix: bool,
    },
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<()> {
        let config = self.config;
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => App::build(&config).await?.run_until(app::shutdown_signal()).await,
            Command::Migrate => {
                let db = db::connect(&config.database_url, 1, db::Planning::Cached).await?;
                db::migrate(&db).await?;
                println!("migrations applied to {}", db::redact(&config.database_url));
                Ok(())
            }
            Command::CreateUser {
                username,
                staff,
                email,
                password_stdin,
            } => create_user(&config, &username, staff, email, password_stdin).await,
            Command::ExportSchema => {
                print!("{}", schema::sdl());
                Ok(())
            }
            Command::SeedDemo { users, numbers, calls } => {
                seed_demo(&config, SeedOptions { users, numbers, calls }).await
            }
            Command::Numbers(NumbersCommand::Check { fix }) => check_numbers(&config, fix).await,
            Command::Porting(PortingCommand::ActivateDue) => activate_due(&config).await,
            Command::Rollups(RollupsCommand::Rebuild) => {
                let db = db::connect(&config.database_url, 1, db::Planning::Cached).await?;
                db::migrate(&db).await?;
                let started = std::time::Instant::now();
                let rows = crate::calls::rollups::rebuild(&db)
                    .await
                    .map_err(|error| anyhow::anyhow!(crate::error::describe(&error)))?;
                println!("rebuilt {rows} rollup rows in {:.1?}", started.elapsed());
                Ok(())
            }
        }
    }
}

async fn create_user(
    config: &Config,
    username: &str,
    staff: bool,
    email: Option<String>,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let human = |error| anyhow::anyhow!("{}", crate::error::describe(&error));
    let username = Username::parse(username).map_err(human)?;
    let email = email.as_deref().map(Email::parse).transpose().map_err(human)?;
    let password = read_password(password_stdin)?;
    let password = Password::parse(&password, &username).map_err(human)?;
    let db = db::connect(&config.database_url, 1, db::Planning::Cached).await?;
    db::migrate(&db).await?;
    let account = NewAccount {
        username,
        password,
        email,
        contact_number: None,
        is_staff: staff,
    };
    let user = AccountService::new(db).create(account).await.map_err(human)?;
    println!("created {}user {}", if staff { "staff " } else { "" }, user.username);
    Ok(())
}

async fn seed_demo(config: &Config, options: SeedOptions) -> anyhow::Result<()> {
    let db = db::connect(
        &config.database_url,
        config.database_max_connections,
        db::Planning::Cached,
    )
    .await?;
    db::migrate(&db).await?;
    let started = std::time::Instant::now();
    let users = seed::seed_demo(&db, options).await?;
    println!(
        "seeded {} users and {} calls in {:.1?}",
        users.len(),
        options.calls,
        started.elapsed()
    );
    for user in users {
        println!(
            "  username {:<20} password {:<18} numbers {}",
            user.username,
            user.password,
            user.numbers.join(", ")
        );
    }
    Ok(())
}

async fn activate_due(config: &Config) -> anyhow::Result<()> {
    use crate::porting::{PortingEvents, PortingService};
    let db = db::connect(&config.database_url, 2, db::Planning::Cached).await?;
    db::migrate(&db).await?;
    let (events, _tasks) = PortingEvents::start(db.clone()).await?;
    let porting = PortingService::new(db, events, app::porting_settings(config)?);
    let done = porting
        .activate_due()
        .await
        .map_err(|error| anyhow::anyhow!(crate::error::describe(&error)))?;
    println!(
        "ported {} orders; {} went to EXCEPTION (a number was held by then)",
        done.ported, done.failed
    );
    Ok(())
}

async fn check_numbers(config: &Config, fix: bool) -> anyhow::Result<()> {
    use crate::numbers::check::{self, Repair, Reread, Source};
    let db = db::connect(&config.database_url, 1, db::Planning::Cached).await?;
    db::migrate(&db).await?;
    let report = check::check_numbers(&db, fix).await?;
    for finding in &report.findings {
        let what = match finding.source {
            Source::VirtualNumber => "virtual number",
            Source::ContactNumber => "contact number of user",
        };
        let country = finding.stored_country.as_deref().unwrap_or("none");
        let reading = match &finding.reread {
            Reread::Differs { number, country_code } => format!(
                "now reads as {number} (country {})",
                country_code.as_deref().unwrap_or("none")
            ),
            Reread::Invalid(why) => why.clone(),
        };
        let outcome = match &finding.repair {
            Repair::NotAttempted => String::new(),
            Repair::Fixed => ": fixed".to_owned(),
            Repair::NotFixed(why) => format!(": not fixed, {why}"),
        };
        let stored = &finding.stored;
        match finding.source {
            Source::VirtualNumber => println!("{what} {} {stored} (country {country}): {reading}{outcome}", finding.id),
            Source::ContactNumber => println!("{what} {} {stored}: {reading}{outcome}", finding.id),
        }
    }
    let fixed = report.findings.len() - report.outstanding();
    println!(
        "checked {} virtual numbers and {} contact numbers: {} read differently, {fixed} fixed, {} left",
        report.virtual_numbers,
        report.contact_numbers,
        report.findings.len(),
        report.outstanding()
    );
    if report.outstanding() > 0 {
        let hint = if fix {
            "see above for why"
        } else {
            "run with --fix to repair what can be"
        };
        bail!("{} stored numbers need attention ({hint})", report.outstanding());
    }
    Ok(())
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    let first = rpassword::prompt_password("Password: ").context("reading the password")?;
    let second = rpassword::prompt_password("Password (again): ").context("reading the password")?;
    if first != second {
        bail!("the passwords do not match");
    }
    Ok(first)
}
