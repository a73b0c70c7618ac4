//! The signatories of the covenant: onboarding and the lifecycle of organisations and their people, and the in-memory registry
//! the identity path reads. Every change commits with its `admin` record and moves the registry generation. May
//! use `types`, `crypto`, `store`, `log` and `covenant`.
pub mod onboarding;
pub mod people;
pub mod registry;
