//! Doelpoort: the gateway through which the partners of a Zorg- en Veiligheidshuis exchange case information
//! under their covenant.
//!
//! Data flows one way: a connection enters at the [`edge`] (mutual TLS, certificate-bound tokens) and becomes an
//! identified caller; the thin handlers of [`api`] call the domain ([`cases`], [`exchange`], [`orgs`]), which asks
//! the one decision point ([`covenant::decision`]) and lets data leave only as a [`log::Released`] that the
//! disclosure [`log`] made for the records it committed. [`store`] holds the rows and knows neither HTTP nor the
//! log; [`types`] are the values that parse once. Arrows point only inward: `tests/it/architecture.rs` checks
//! every `crate::` path against one table, and `docs/architecture.md` explains it.
#![forbid(unsafe_code)]

pub mod api;
pub mod app;
pub mod cases;
pub mod cli;
pub mod config;
pub mod console;
pub mod covenant;
pub mod crypto;
pub mod edge;
pub mod exchange;
pub mod figures;
pub mod log;
pub mod orgs;
pub mod server;
pub mod store;
pub mod types;
