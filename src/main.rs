//! The `wsscope` command line.

fn main() {}
