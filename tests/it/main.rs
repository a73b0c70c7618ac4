//! Integration tests: the real server, real TLS on a loopback port, called as a partner would — with
//! certificates and tokens. Every scenario runs once on SQLite and once on PostgreSQL (`both!`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod helpers;

mod admin;
mod architecture;
mod audit;
mod cases;
mod certificates;
mod covenant_api;
mod demo_cli;
mod exchange;
mod http;
mod log;
mod lookups;
mod meetings;
mod tokens;
