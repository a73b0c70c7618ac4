//! The signatories of the covenant: onboarding and the lifecycle of organisations, and the in-memory registry
//! the identity path reads.
pub mod onboarding;
pub mod registry;
