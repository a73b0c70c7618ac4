//! Where a connection enters: mutual TLS with revocation, the accept loop with its limits, and the identity of
//! the caller (organisation from the certificate, professional from the bound token). Knows no HTTP routes and no
//! application state: the API's extractors call [`identity::identify`]. May use `types`, `crypto` and `orgs`.
pub mod conn;
pub mod identity;
pub(crate) mod limits;
pub(crate) mod timer;
pub(crate) mod tls;
pub mod token;

pub use limits::Limits;
