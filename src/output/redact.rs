//! Keeps the API key out of every byte the connector writes.
//!
//! The key is only ever put in a request header, but error text can echo a server's message or a
//! URL; so the output layer itself masks the key wherever it would appear.

use std::borrow::Cow;

/// What replaces the key.
pub(crate) const MASK: &str = "****";

/// Masks `secret` in text.
#[derive(Debug, Clone)]
pub(crate) struct Redactor {
    /// The key as is, and as it reads inside a JSON string (differs when it holds `"` or `\`).
    forms: Vec<String>,
}

impl Redactor {
    /// A redactor for one key (a key shorter than 4 characters masks nothing: it would mask
    /// ordinary text, and the config refuses such keys in practice).
    pub(crate) fn new(secret: &str) -> Redactor {
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
    pub(crate) fn clean<'a>(&self, text: &'a str) -> Cow<'a, str> {
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
#[path = "redact_tests.rs"]
mod tests;
