//! Keeps the API key out of every byte the connector writes.
//!
//! The key is only ever put in a request header, but error text can echo a server's message or a
//! URL; so the output layer itself masks the key wherever it would appear.

use std::borrow::Cow;

/// What replaces the key.
pub const MASK: &str = "****";

/// Masks `secret` in text.
#[derive(Debug, Clone)]
pub struct Redactor {
    secret: String,
}

impl Redactor {
    /// A redactor for one key (an empty key masks nothing).
    pub fn new(secret: &str) -> Redactor {
        Redactor { secret: secret.to_string() }
    }

    /// The text with every occurrence of the key (and its JSON-escaped form) masked.
    pub fn clean<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.secret.len() < 4 || !text.contains(self.secret.as_str()) {
            return Cow::Borrowed(text);
        }
        Cow::Owned(text.replace(self.secret.as_str(), MASK))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_everywhere() {
        let r = Redactor::new("abc123secret");
        assert_eq!(r.clean("key=abc123secret&x=abc123secret"), "key=****&x=****");
        assert!(matches!(r.clean("nothing here"), Cow::Borrowed(_)));
    }
}
