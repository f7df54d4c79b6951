//! HTTP as the engine sees it: the page request, the answer read, the retry policy, the limiter.

pub(crate) mod limiter;
pub(crate) mod request;
pub(crate) mod response;
pub(crate) mod retry;
