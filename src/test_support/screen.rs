//! A terminal that keeps what was written, masking the key as the WASI edge does.

use crate::output::Terminal;

/// Records what was written, masking as the edge does.
#[derive(Debug, Default)]
pub(crate) struct Screen {
    /// The secret masked, when one was given.
    pub(crate) secret: Option<String>,
    /// stdout lines.
    pub(crate) out: Vec<String>,
    /// stderr texts.
    pub(crate) err: Vec<String>,
    /// Flushes.
    pub(crate) flushes: usize,
}

impl Screen {
    fn clean(&self, text: &str) -> String {
        crate::output::redact::Redactor::new(self.secret.as_deref().unwrap_or(""))
            .clean(text)
            .into_owned()
    }
}

impl Terminal for Screen {
    fn mask(&mut self, secret: &str) {
        self.secret = Some(secret.to_string());
    }
    fn out(&mut self, line: &str) {
        let l = self.clean(line);
        self.out.push(l);
    }
    fn err(&mut self, text: &str) {
        let t = self.clean(text);
        self.err.push(t);
    }
    fn flush(&mut self) {
        self.flushes += 1;
    }
}
