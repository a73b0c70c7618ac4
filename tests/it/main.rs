//! The one test binary: integration tests against the real server over real TLS on a loopback port, called as a
//! partner would — with certificates and tokens, every scenario once on SQLite and once on PostgreSQL (`both!`) —
//! beside the covenant's decision table, the parser fuzzing, the store contract and the floor plan.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::needless_pass_by_value
)]

mod helpers;

mod admin;
mod architecture;
mod audit;
mod cases;
mod certificates;
mod console;
mod covenant;
mod covenant_api;
mod demo_cli;
mod exchange;
mod figures;
mod fuzz;
mod http;
mod integrity;
mod log;
mod lookups;
mod meetings;
mod process;
mod store;
mod tamper;
mod tokens;
