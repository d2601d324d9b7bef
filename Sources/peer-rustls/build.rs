//! Names the rustls version this peer was built against: rustls has no call that reports it at
//! run time, and the one linked in is the one Cargo.lock resolved.
use std::fs;
use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let lock = Path::new(&manifest).join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = fs::read_to_string(&lock).unwrap_or_default();
    let mut version = String::from("unknown");
    let mut in_rustls = false;
    for line in text.lines() {
        if line.starts_with("name = ") {
            in_rustls = line == "name = \"rustls\"";
        } else if in_rustls && line.starts_with("version = ") {
            version = line.trim_start_matches("version = ").trim_matches('"').to_string();
            break;
        }
    }
    println!("cargo:rustc-env=PEER_RUSTLS_VERSION={}", version);
}
