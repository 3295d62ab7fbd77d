//! The users file: who may log in, with which password verifier and role.
//!
//! One user per line, `name role verifier [md5]`, where role is `admin` or
//! `read_only`, verifier is Postgres's SCRAM-SHA-256 form (so a hash from
//! `pg_authid` can be pasted in), and the optional last field is
//! Postgres's `md5<hex>` form, for clients too old for SCRAM (`--auth md5`).
//! `#` starts a comment. Written by `ecomsql user add`, which never stores
//! the password itself.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use super::scram::{DEFAULT_ITERATIONS, Verifier};

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Queries, model use, EVALUATE/SHOW/DESCRIBE; no CREATE/DROP/ALTER
    /// MODEL, no DDL or DML.
    ReadOnly,
    /// Everything.
    Admin,
}

impl Role {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "read_only" | "readonly" | "read-only" => Some(Self::ReadOnly),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::ReadOnly => "read_only",
            Self::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub role: Role,
    pub verifier: Verifier,
    /// `md5` followed by hex(md5(password || name)), only if asked for: it
    /// is weaker than the SCRAM verifier (it is enough to log in with MD5).
    pub md5: Option<String>,
}

/// Postgres's stored MD5 form of a password.
pub fn md5_verifier(name: &str, password: &str) -> String {
    format!("md5{:x}", md5::compute(format!("{password}{name}")))
}

/// Every user of a users file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Users {
    users: BTreeMap<String, User>,
}

impl Users {
    /// Read a users file; a missing file is an empty one (for `user add`).
    pub fn load(path: &Path) -> Result<Self, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let mut users = BTreeMap::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (name, role, verifier, md5) = match fields.as_slice() {
                [name, role, verifier] => (name, role, verifier, None),
                [name, role, verifier, md5] => (name, role, verifier, Some(*md5)),
                _ => {
                    return Err(format!(
                        "line {}: expected `name role verifier [md5]`",
                        number + 1
                    ));
                }
            };
            let md5 = match md5 {
                Some(m)
                    if m.len() == 35
                        && m.starts_with("md5")
                        && m[3..].bytes().all(|b| b.is_ascii_hexdigit()) =>
                {
                    Some(m.to_string())
                }
                Some(_) => {
                    return Err(format!("line {}: not an md5 verifier", number + 1));
                }
                None => None,
            };
            let role = Role::parse(role)
                .ok_or_else(|| format!("line {}: role must be admin or read_only", number + 1))?;
            let verifier = Verifier::parse(verifier)
                .ok_or_else(|| format!("line {}: not a SCRAM-SHA-256 verifier", number + 1))?;
            if users
                .insert(
                    name.to_string(),
                    User {
                        role,
                        verifier,
                        md5,
                    },
                )
                .is_some()
            {
                return Err(format!("line {}: user {name} appears twice", number + 1));
            }
        }
        Ok(Self { users })
    }

    pub fn get(&self, name: &str) -> Option<&User> {
        self.users.get(name)
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Add or replace a user (with a SCRAM verifier only).
    pub fn set(&mut self, name: &str, password: &str, role: Role) -> Result<(), String> {
        self.set_with(name, password, role, false)
    }

    /// Add or replace a user; `with_md5` also stores the MD5 form.
    pub fn set_with(
        &mut self,
        name: &str,
        password: &str,
        role: Role,
        with_md5: bool,
    ) -> Result<(), String> {
        validate_user_name(name)?;
        if password.is_empty() {
            return Err("the password is empty".into());
        }
        let verifier = Verifier::new(password, DEFAULT_ITERATIONS);
        let md5 = with_md5.then(|| md5_verifier(name, password));
        self.users.insert(
            name.to_string(),
            User {
                role,
                verifier,
                md5,
            },
        );
        Ok(())
    }

    pub fn remove(&mut self, name: &str) -> bool {
        self.users.remove(name).is_some()
    }

    pub fn names(&self) -> impl Iterator<Item = (&str, Role)> {
        self.users.iter().map(|(n, u)| (n.as_str(), u.role))
    }

    fn render(&self) -> String {
        let mut text =
            String::from("# ecomsql users: name role verifier (written by `ecomsql user add`)\n");
        for (name, user) in &self.users {
            text.push_str(&format!("{name} {} {}", user.role.name(), user.verifier));
            if let Some(md5) = &user.md5 {
                text.push(' ');
                text.push_str(md5);
            }
            text.push('\n');
        }
        text
    }

    /// Write atomically (temp file, fsync, rename), readable by the owner
    /// only.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let file_name = path
            .file_name()
            .ok_or_else(|| format!("{} is not a file path", path.display()))?;
        let temp = dir.join(format!(
            ".{}.tmp{}",
            file_name.to_string_lossy(),
            std::process::id()
        ));
        let write = || -> std::io::Result<()> {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&temp)?;
            file.write_all(self.render().as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&temp, path)?;
            Ok(())
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            format!("cannot write {}: {e}", path.display())
        })
    }
}

/// Names as Postgres users are typed unquoted, plus `-` and `.`; no spaces
/// (the file is whitespace-separated).
fn validate_user_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid user name {name:?}: use up to 63 letters, digits, _ - . @"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let mut users = Users::default();
        users.set("analyst", "pw1", Role::ReadOnly).unwrap();
        users.set_with("ops", "pw2", Role::Admin, true).unwrap();
        let parsed = Users::parse(&users.render()).unwrap();
        assert_eq!(parsed, users);
        assert!(parsed.get("analyst").unwrap().verifier.matches("pw1"));
        assert_eq!(parsed.get("ops").unwrap().role, Role::Admin);
        // Postgres's md5 form, md5(password || user); the value from
        // Python's hashlib.md5(b"pw2ops").hexdigest().
        assert_eq!(
            md5_verifier("ops", "pw2"),
            "md549ceb4a7c44ce87a7dce947b108863b6"
        );
        assert_eq!(
            parsed.get("ops").unwrap().md5.as_deref(),
            Some(md5_verifier("ops", "pw2").as_str())
        );
        assert_eq!(parsed.get("analyst").unwrap().md5, None);
        assert!(Users::parse("a admin").is_err());
        assert!(Users::parse("a boss SCRAM-SHA-256$1:AA==$AA==:AA==").is_err());
        assert!(users.set("two words", "x", Role::Admin).is_err());
        assert!(users.set("x", "", Role::Admin).is_err());
        let line = users.render().lines().nth(1).unwrap().to_string();
        assert!(Users::parse(&format!("{line}\n{line}\n")).is_err());
    }
}
