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
    /// The key as is, and as it reads inside a JSON string (differs when it holds `"` or `\`).
    forms: Vec<String>,
}

impl Redactor {
    /// A redactor for one key (a key shorter than 4 characters masks nothing: it would mask
    /// ordinary text, and the config refuses such keys in practice).
    pub fn new(secret: &str) -> Redactor {
        let mut forms = Vec::new();
        if secret.len() >= 4 {
            forms.push(secret.to_string());
            let escaped = serde_json::Value::String(secret.to_string()).to_string();
            let escaped = escaped[1..escaped.len() - 1].to_string();
            if escaped != secret {
                forms.push(escaped);
            }
        }
        Redactor { forms }
    }

    /// The text with every occurrence of the key (and its JSON-escaped form) masked.
    pub fn clean<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if !self.forms.iter().any(|f| text.contains(f.as_str())) {
            return Cow::Borrowed(text);
        }
        let mut out = text.to_string();
        for f in &self.forms {
            out = out.replace(f.as_str(), MASK);
        }
        Cow::Owned(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_everywhere() {
        let r = Redactor::new("abc123secret");
        assert_eq!(
            r.clean("key=abc123secret&x=abc123secret"),
            "key=****&x=****"
        );
        assert!(matches!(r.clean("nothing here"), Cow::Borrowed(_)));
        let q = Redactor::new("ab\"cd\\ef");
        let json = serde_json::json!({"m": "key ab\"cd\\ef"}).to_string();
        assert!(!q.clean(&json).contains("cd"), "{}", q.clean(&json));
    }
}
