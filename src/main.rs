//! The `wsscope` command line.

#[allow(dead_code)]
mod tui;

fn main() {}
