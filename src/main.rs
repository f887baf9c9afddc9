use clap::Parser;
use switchboard::{cli::Cli, telemetry};

/// mimalloc rather than the system allocator: a request allocates many small
/// short-lived objects (parsed documents, values, rows), and glibc's malloc took
/// a fifth of the server's time under load (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    telemetry::init(cli.config.log_format);
    cli.run().await
}
