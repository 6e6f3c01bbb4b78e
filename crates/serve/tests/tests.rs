//! glossa-serve's integration tests, one binary: the JSON API and its bad
//! requests, the MCP tools, the pages in headless Chromium, and a shard.

mod api;
mod browser;
mod common;
mod mcp;
mod shards;
