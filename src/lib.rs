//! Doelpoort: the gateway through which the partners of a Zorg- en Veiligheidshuis exchange case information
//! under their covenant.
//!
//! Data flows one way: a connection enters at the [`edge`] (mutual TLS, certificate-bound tokens), becomes an
//! identified [`edge::identity::Caller`], and reaches the thin HTTP handlers in [`api`], which call the domain
//! modules. [`store`] knows no HTTP; [`registry`] holds the in-memory view of onboarded organisations that the
//! identity path reads without touching the database.
#![forbid(unsafe_code)]

pub mod api;
pub mod app;
pub mod cases;
pub mod cli;
pub mod config;
pub mod covenant;
pub mod crypto;
pub mod edge;
pub mod exchange;
pub mod log;
pub mod orgs;
pub mod server;
pub mod store;
pub mod types;
