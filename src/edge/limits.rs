//! What one client may take: bytes, time, connections, lookups. Read from `[limits]` of the configuration.
use serde::{Deserialize, Serialize};

/// Limits on what one client may take.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub body_bytes: usize,
    pub handshake_timeout_secs: u64,
    pub header_timeout_secs: u64,
    pub request_timeout_secs: u64,
    pub max_connections: usize,
    /// Established connections one organisation holds at most (its oldest idle one gives way to a new one).
    pub max_connections_per_organisation: usize,
    pub max_header_bytes: usize,
    /// Allowed clock skew when checking token times.
    pub token_leeway_secs: u64,
    /// Verified tokens kept in the cache at most.
    pub token_cache_entries: usize,
    /// How often the server looks for onboarding or revocation changes made by another process.
    pub registry_poll_millis: u64,
    /// Hit/no-hit lookups per user per minute (429 beyond).
    pub lookups_per_minute: u32,
    /// Hit/no-hit lookups per organisation per minute, whatever users its tokens name (429 beyond).
    pub lookups_per_minute_per_organisation: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_bytes: 1024 * 1024,
            handshake_timeout_secs: 10,
            header_timeout_secs: 10,
            request_timeout_secs: 30,
            max_connections: 1024,
            max_connections_per_organisation: 256,
            max_header_bytes: 16 * 1024,
            token_leeway_secs: 30,
            token_cache_entries: 10_000,
            registry_poll_millis: 1000,
            lookups_per_minute: 30,
            lookups_per_minute_per_organisation: 300,
        }
    }
}
