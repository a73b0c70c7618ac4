//! Where a connection enters: mutual TLS with revocation, the accept loop with its limits, and the identity of
//! the caller (organisation from the certificate, professional from the bound token).
pub mod conn;
pub mod identity;
pub(crate) mod limits;
pub(crate) mod timer;
pub(crate) mod tls;
pub mod token;

pub use limits::Limits;
