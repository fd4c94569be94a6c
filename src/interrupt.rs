//! Ctrl-C and SIGTERM: opal's partial files (`.items.csv.<pid>.partial`, `.<name>.partial`)
//! are removed before the process ends, so that an interrupted run leaves nothing that looks
//! like an output and the next run can use the folder.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

static PARTIAL: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// A run's staging folders (`write::outdir`), removed whole.
static STAGING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A run's staging folder now exists: removed, with everything in it, if the run is
/// interrupted.
pub fn register_dir(path: &Path) {
    if let Ok(mut dirs) = STAGING.lock() {
        dirs.push(path.to_path_buf());
    }
}

/// A staging folder was moved into place or removed.
pub fn unregister_dir(path: &Path) {
    if let Ok(mut dirs) = STAGING.lock() {
        dirs.retain(|p| p != path);
    }
}

/// A partial file now exists: removed if the run is interrupted.
pub fn register(path: &Path) {
    if let Ok(mut files) = PARTIAL.lock() {
        files.push(path.to_path_buf());
    }
}

/// A partial file was moved into place or removed.
pub fn unregister(path: &Path) {
    if let Ok(mut files) = PARTIAL.lock() {
        files.retain(|p| p != path);
    }
}

/// Watch for SIGINT and SIGTERM on a thread of its own: at the first, remove the registered
/// partial files and end with 128 + the signal's number (130 for Ctrl-C, 143 for SIGTERM),
/// as a shell would report it.
pub fn install() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("opal-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                if let Ok(files) = PARTIAL.lock() {
                    for f in files.iter() {
                        let _ = std::fs::remove_file(f);
                    }
                }
                if let Ok(dirs) = STAGING.lock() {
                    for d in dirs.iter() {
                        let _ = std::fs::remove_dir_all(d);
                    }
                }
                eprintln!("opal: interrupted; partial files removed");
                std::process::exit(128 + signal);
            }
        });
}

/// Whether a file or folder name is one of opal's partial files or staging folders.
pub fn is_partial_name(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".partial")
}

/// Whether a name is one of opal's staging folders (`.opal-<pid>.partial`, write/outdir.rs).
pub fn is_staging_name(name: &str) -> bool {
    name.strip_prefix(".opal-")
        .and_then(|n| n.strip_suffix(".partial"))
        .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
}
