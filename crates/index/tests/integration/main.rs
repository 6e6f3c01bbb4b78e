//! Integration tests of glossa-index, one binary with a module per topic.

mod fuzz;
mod heads;
mod lifecycle;
mod matching;
mod ranking;
mod support;
mod syntax;
