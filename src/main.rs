use clap::Parser;
use switchboard::{cli::Cli, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    telemetry::init(cli.config.log_format);
    cli.run().await
}
