//! SCRAM-SHA-256 (RFC 5802, RFC 7677) as Postgres speaks it, server side.
//!
//! The server keeps only Postgres's verifier, `StoredKey` and `ServerKey`
//! (never the password, and not the salted password either, which would be
//! enough to log in): it checks `H(ClientProof XOR HMAC(StoredKey, AuthMessage))
//! == StoredKey`. pgwire's SCRAM needs the salted password, hence this
//! module.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::{digest, hmac, pbkdf2};

/// Iterations for new verifiers (Postgres's default is 4096; more costs the
/// attacker of a stolen users file more, and each login a few ms).
pub const DEFAULT_ITERATIONS: u32 = 4096;

/// The stored form of a password, as in Postgres's `pg_authid.rolpassword`:
/// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (base64).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    pub iterations: u32,
    pub salt: Vec<u8>,
    pub stored_key: [u8; 32],
    pub server_key: [u8; 32],
}

impl Verifier {
    /// The verifier of `password` with a fresh random salt.
    pub fn new(password: &str, iterations: u32) -> Self {
        let salt: [u8; 16] = rand::random();
        Self::with_salt(password, &salt, iterations)
    }

    pub fn with_salt(password: &str, salt: &[u8], iterations: u32) -> Self {
        let salted = salted_password(password, salt, iterations);
        let client_key = hmac_sha256(&salted, b"Client Key");
        Self {
            iterations,
            salt: salt.to_vec(),
            stored_key: sha256(&client_key),
            server_key: hmac_sha256(&salted, b"Server Key"),
        }
    }

    /// Whether `password` is the one this verifier was made from (for the
    /// `password` method, where the client sends it in clear over TLS).
    pub fn matches(&self, password: &str) -> bool {
        let other = Self::with_salt(password, &self.salt, self.iterations);
        constant_time_eq(&other.stored_key, &self.stored_key)
    }

    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix("SCRAM-SHA-256$")?;
        let (params, keys) = rest.split_once('$')?;
        let (iterations, salt) = params.split_once(':')?;
        let (stored, server) = keys.split_once(':')?;
        let iterations: u32 = iterations.parse().ok().filter(|&i| i > 0)?;
        Some(Self {
            iterations,
            salt: STANDARD.decode(salt).ok()?,
            stored_key: STANDARD.decode(stored).ok()?.try_into().ok()?,
            server_key: STANDARD.decode(server).ok()?.try_into().ok()?,
        })
    }
}

impl std::fmt::Display for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SCRAM-SHA-256${}:{}${}:{}",
            self.iterations,
            STANDARD.encode(&self.salt),
            STANDARD.encode(self.stored_key),
            STANDARD.encode(self.server_key)
        )
    }
}

/// The exchange after the server's first message, waiting for the client's
/// final one.
#[derive(Debug)]
pub struct Exchange {
    verifier: Verifier,
    /// Whether the verifier is real; an unknown user gets a made-up one so
    /// that the exchange looks the same, and always fails.
    known: bool,
    client_first_bare: String,
    server_first: String,
    gs2_header: String,
    nonce: String,
}

/// Why an exchange failed. `BadMessage` is a protocol violation (08P01);
/// `WrongPassword` is reported exactly like an unknown user (28P01).
#[derive(Debug, PartialEq, Eq)]
pub enum ScramError {
    BadMessage(String),
    WrongPassword,
}

impl Exchange {
    /// Answer the client-first message. `verifier` is `None` for an unknown
    /// user: a made-up verifier, stable per user name (from `secret`), keeps
    /// salt and iterations from telling whether the user exists.
    pub fn start(
        client_first: &[u8],
        verifier: Option<&Verifier>,
        user: &str,
        secret: &[u8],
    ) -> Result<(Self, String), ScramError> {
        let message = std::str::from_utf8(client_first)
            .map_err(|_| ScramError::BadMessage("client-first-message is not UTF-8".into()))?;
        let (gs2_header, bare) = split_gs2_header(message)?;
        let nonce = attribute(bare, 'r')
            .ok_or_else(|| ScramError::BadMessage("client-first-message has no nonce".into()))?;
        if nonce.is_empty()
            || !nonce
                .bytes()
                .all(|b| (0x21..=0x7e).contains(&b) && b != b',')
        {
            return Err(ScramError::BadMessage("invalid client nonce".into()));
        }
        let (verifier, known) = match verifier {
            Some(v) => (v.clone(), true),
            None => {
                let salt = hmac_sha256(secret, user.as_bytes());
                let mut fake = Verifier::with_salt("", &salt[..16], DEFAULT_ITERATIONS);
                fake.stored_key = hmac_sha256(secret, b"no such user");
                (fake, false)
            }
        };
        let server_nonce = STANDARD.encode(rand::random::<[u8; 18]>());
        let nonce = format!("{nonce}{server_nonce}");
        let server_first = format!(
            "r={nonce},s={},i={}",
            STANDARD.encode(&verifier.salt),
            verifier.iterations
        );
        Ok((
            Self {
                verifier,
                known,
                client_first_bare: bare.to_string(),
                server_first: server_first.clone(),
                gs2_header: gs2_header.to_string(),
                nonce,
            },
            server_first,
        ))
    }

    /// Check the client-final message; on success, the server-final message
    /// (`v=<ServerSignature>`) that proves the server knew the verifier.
    pub fn finish(&self, client_final: &[u8]) -> Result<String, ScramError> {
        let message = std::str::from_utf8(client_final)
            .map_err(|_| ScramError::BadMessage("client-final-message is not UTF-8".into()))?;
        let (without_proof, proof) = message
            .rsplit_once(",p=")
            .ok_or_else(|| ScramError::BadMessage("client-final-message has no proof".into()))?;
        let binding = attribute(without_proof, 'c')
            .ok_or_else(|| ScramError::BadMessage("client-final-message has no binding".into()))?;
        if STANDARD.decode(binding).ok().as_deref() != Some(self.gs2_header.as_bytes()) {
            return Err(ScramError::BadMessage(
                "channel binding does not match".into(),
            ));
        }
        if attribute(without_proof, 'r') != Some(self.nonce.as_str()) {
            return Err(ScramError::BadMessage("nonce does not match".into()));
        }
        let proof = STANDARD
            .decode(proof)
            .map_err(|_| ScramError::BadMessage("proof is not base64".into()))?;
        if proof.len() != 32 {
            return Err(ScramError::BadMessage("proof has the wrong length".into()));
        }
        let auth_message = format!(
            "{},{},{}",
            self.client_first_bare, self.server_first, without_proof
        );
        let signature = hmac_sha256(&self.verifier.stored_key, auth_message.as_bytes());
        let client_key: Vec<u8> = proof.iter().zip(signature).map(|(p, s)| p ^ s).collect();
        let ok = constant_time_eq(&sha256(&client_key), &self.verifier.stored_key);
        if !(ok && self.known) {
            return Err(ScramError::WrongPassword);
        }
        let server_signature = hmac_sha256(&self.verifier.server_key, auth_message.as_bytes());
        Ok(format!("v={}", STANDARD.encode(server_signature)))
    }
}

/// `n,,` / `y,,` (with an optional `a=authzid`); `p=...` asks for channel
/// binding, which is only offered as SCRAM-SHA-256-PLUS, not here.
fn split_gs2_header(message: &str) -> Result<(&str, &str), ScramError> {
    let bad = || ScramError::BadMessage("malformed GS2 header".into());
    let first = message.find(',').ok_or_else(bad)?;
    let second = message[first + 1..].find(',').ok_or_else(bad)? + first + 1;
    let flag = &message[..first];
    let authzid = &message[first + 1..second];
    if !(authzid.is_empty() || authzid.starts_with("a=")) {
        return Err(bad());
    }
    match flag {
        "n" | "y" => {}
        f if f.starts_with("p=") => {
            return Err(ScramError::BadMessage(
                "channel binding was not offered (use SCRAM-SHA-256)".into(),
            ));
        }
        _ => return Err(bad()),
    }
    Ok((&message[..=second], &message[second + 1..]))
}

/// The value of `k=` in a comma-separated SCRAM message.
fn attribute(message: &str, key: char) -> Option<&str> {
    message.split(',').find_map(|part| {
        let mut chars = part.chars();
        (chars.next() == Some(key) && chars.next() == Some('=')).then(|| &part[2..])
    })
}

/// `Hi(Normalize(password), salt, i)`; SASLprep as pgwire (and Postgres)
/// applies it, falling back to the raw bytes.
fn salted_password(password: &str, salt: &[u8], iterations: u32) -> [u8; 32] {
    let normalized = stringprep_or_raw(password);
    let mut out = [0_u8; 32];
    let iterations = std::num::NonZeroU32::new(iterations).unwrap_or(std::num::NonZeroU32::MIN);
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        salt,
        normalized.as_bytes(),
        &mut out,
    );
    out
}

fn stringprep_or_raw(password: &str) -> String {
    stringprep::saslprep(password)
        .map(|p| p.into_owned())
        .unwrap_or_else(|_| password.to_string())
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let tag = hmac::sign(&key, message);
    let mut out = [0_u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0_u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, data).as_ref());
    out
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677 section 3's example exchange (user "user", password
    /// "pencil", 4096 iterations), replayed against the server side.
    #[test]
    fn rfc_7677_example() {
        let salt = STANDARD.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let verifier = Verifier::with_salt("pencil", &salt, 4096);
        let client_first = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
        let (mut exchange, _) =
            Exchange::start(client_first.as_bytes(), Some(&verifier), "user", b"k").unwrap();
        // Replace the random server nonce with the RFC's.
        exchange.nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0".into();
        exchange.server_first = format!("r={},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", exchange.nonce);
        let client_final = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
        let server_final = exchange.finish(client_final.as_bytes()).unwrap();
        assert_eq!(
            server_final,
            "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );
        // A flipped proof bit fails.
        let wrong = client_final.replace("p=dHzb", "p=dHzc");
        assert_eq!(
            exchange.finish(wrong.as_bytes()),
            Err(ScramError::WrongPassword)
        );
    }

    #[test]
    fn verifier_round_trips_and_checks_passwords() {
        let v = Verifier::new("s3cret", 4096);
        let text = v.to_string();
        assert!(text.starts_with("SCRAM-SHA-256$4096:"));
        assert_eq!(Verifier::parse(&text), Some(v.clone()));
        assert!(v.matches("s3cret"));
        assert!(!v.matches("s3cret "));
        assert_eq!(Verifier::parse("md5abc"), None);
        assert_eq!(Verifier::parse("SCRAM-SHA-256$0:AA==$AA==:AA=="), None);
    }

    #[test]
    fn unknown_users_fail_like_wrong_passwords() {
        let (a, first_a) = Exchange::start(b"n,,n=,r=abc", None, "ghost", b"secret").unwrap();
        let (_, first_b) = Exchange::start(b"n,,n=,r=abc", None, "ghost", b"secret").unwrap();
        // Same salt for the same name on every attempt, as a real user has.
        assert_eq!(first_a.split(',').nth(1), first_b.split(',').nth(1));
        let proof = STANDARD.encode([0_u8; 32]);
        let final_message = format!("c=biws,r={},p={proof}", a.nonce);
        assert_eq!(
            a.finish(final_message.as_bytes()),
            Err(ScramError::WrongPassword)
        );
    }

    #[test]
    fn malformed_messages_are_protocol_errors() {
        let v = Verifier::new("x", 4096);
        for bad in [
            "",
            "n,n=,r=x",
            "p=tls-server-end-point,,n=,r=x",
            "n,,n=,r=",
            "q,,r=x",
        ] {
            assert!(
                matches!(
                    Exchange::start(bad.as_bytes(), Some(&v), "u", b"k"),
                    Err(ScramError::BadMessage(_))
                ),
                "{bad:?}"
            );
        }
        let (exchange, _) = Exchange::start(b"n,,n=,r=abc", Some(&v), "u", b"k").unwrap();
        for bad in ["c=biws", "c=eSws,r=abc,p=AA==", "c=biws,r=other,p=AA=="] {
            assert!(
                matches!(
                    exchange.finish(bad.as_bytes()),
                    Err(ScramError::BadMessage(_))
                ),
                "{bad:?}"
            );
        }
    }
}
