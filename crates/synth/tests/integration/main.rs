//! Integration tests of glossa-synth, one binary with a module per topic.

mod checkpoint;
mod determinism;
mod families;
mod hub;
mod plants;
mod support;
mod tokenizer;
