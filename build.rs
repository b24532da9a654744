//! rust-i18n reads `locales/*.yml` at compile time but does not tell cargo: without this,
//! an edited message would not rebuild the crate.

fn main() {
    println!("cargo:rerun-if-changed=locales");
}
