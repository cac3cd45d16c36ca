//! The migrations are embedded in the crate (`embed_migrations!`), which tracks the files that
//! existed when it last compiled but not a new migration's directory: without this, an
//! incremental build kept serving the old schema.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
