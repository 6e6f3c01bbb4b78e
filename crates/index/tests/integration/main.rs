//! Integration tests of glossa-index, one binary with a module per topic.

mod lifecycle;
mod matching;
mod ranking;
mod support;
