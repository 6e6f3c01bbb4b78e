//! glossa-serve's integration tests, one binary: the JSON API and its bad
//! requests, the MCP tools, and the pages in headless Chromium.

mod api;
mod browser;
mod common;
mod mcp;
