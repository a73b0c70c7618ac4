//! The `doelpoort` command line: parses the arguments, runs [`doelpoort::cli::run`] and maps its outcome to an exit
//! code (0 success, 1 runtime failure, 2 usage error); errors go to stderr as one sentence.
use clap::Parser;
use std::process::ExitCode;

/// The gateway allocates and frees many small buffers per request (headers, TLS records, JSON, records) from
/// several threads; mimalloc does that with far less work than glibc's allocator (`benches/load.sh`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = doelpoort::cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DOELPOORT_LOG").unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("doelpoort: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(doelpoort::cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("doelpoort: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}
