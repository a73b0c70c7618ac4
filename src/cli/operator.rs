//! Who runs an administrative command, as its records name them: the operating-system user, read from the process
//! itself (not from `$USER`, which anyone sets), and whom they name with `--actor`. A command that cannot tell who
//! runs it does not run.
use std::os::unix::fs::MetadataExt as _;

use super::Failure;
use crate::log::actor::AnyActor;

/// The `--actor` given, if any; resolved only by the commands that change something or read the log.
pub struct Operator {
    pub named: Option<String>,
}

impl Operator {
    /// The actor an administrative command's records carry: `cli:uid=UID(NAME)`, with ` actor=NAMED` when
    /// `--actor` was given.
    ///
    /// # Errors
    /// The user cannot be identified: no uid, or a uid without a name and no `--actor`.
    pub fn actor(&self) -> Result<AnyActor, Failure> {
        let uid = std::fs::metadata("/proc/self")
            .map(|m| m.uid())
            .map_err(|_| Failure::from("cannot tell which operating-system user runs this command"))?;
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        let sub = describe(uid, user_name(&passwd, uid), self.named.as_deref()).map_err(Failure::from)?;
        Ok(AnyActor::operator(&sub))
    }
}

/// The name `/etc/passwd` gives `uid`.
fn user_name(passwd: &str, uid: u32) -> Option<&str> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id: u32 = fields.nth(1)?.parse().ok()?;
        (id == uid && !name.is_empty()).then_some(name)
    })
}

fn describe(uid: u32, name: Option<&str>, named: Option<&str>) -> Result<String, String> {
    let named = match named.map(str::trim) {
        Some(n) if n.is_empty() || n.chars().count() > 100 || n.chars().any(char::is_control) => {
            return Err("--actor: must be 1–100 characters without control characters".into());
        }
        other => other,
    };
    let user = match name {
        Some(name) => format!("cli:uid={uid}({name})"),
        None if named.is_some() => format!("cli:uid={uid}"),
        None => {
            return Err(format!(
                "cannot tell who runs this command: uid {uid} has no user name; name yourself with --actor"
            ))
        }
    };
    Ok(match named {
        Some(n) => format!("{user} actor={n}"),
        None => user,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\nbeheer:x:1001:1001::/home/beheer:/bin/sh\n";

    #[test]
    fn the_user_is_named_by_uid_and_name_and_whom_they_name() {
        assert_eq!(user_name(PASSWD, 1001), Some("beheer"));
        assert_eq!(
            describe(1001, user_name(PASSWD, 1001), None).unwrap(),
            "cli:uid=1001(beheer)"
        );
        assert_eq!(
            describe(1001, Some("beheer"), Some(" J. de Vries ")).unwrap(),
            "cli:uid=1001(beheer) actor=J. de Vries"
        );
        assert_eq!(
            describe(4242, None, Some("J. de Vries")).unwrap(),
            "cli:uid=4242 actor=J. de Vries"
        );
    }

    #[test]
    fn an_unidentifiable_user_or_a_bad_name_is_refused() {
        assert_eq!(user_name(PASSWD, 4242), None);
        assert!(describe(4242, None, None).unwrap_err().contains("--actor"));
        assert!(describe(1001, Some("beheer"), Some("a\nb")).is_err());
        assert!(describe(1001, Some("beheer"), Some("  ")).is_err());
        assert!(describe(1001, Some("beheer"), Some(&"x".repeat(101))).is_err());
    }
}
