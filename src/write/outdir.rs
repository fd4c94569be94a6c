//! A run's output folder, written all or nothing (issue 23.4).
//!
//! Every output of a run is written into a staging folder of its own, a hidden sibling of the
//! output folder (`.opal-<pid>.partial`). Only when every file is written are they synced
//! (once, for the whole file system where it can: `syncfs`) and moved into the output folder,
//! `manifest.json` last. A run that fails or is interrupted before then removes its staging
//! folder, so an output folder either has its manifest and every file the manifest lists, or
//! is untouched. With `--force`, the files the previous run's manifest lists are removed
//! first (a practice that dropped out keeps no stale pack), files opal did not write are left
//! alone, and nothing is written through a symbolic link inside the folder: a link where an
//! output or its folder should be is removed, never followed.

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};

/// The staging folder of one run.
pub struct Staging {
    path: PathBuf,
    done: bool,
}

impl Staging {
    /// Make the staging folder beside `target` (the output folder, which may not exist yet),
    /// or inside it when its parent cannot be written.
    pub fn create(target: &Path) -> Result<Staging> {
        let name = format!(".opal-{}.partial", std::process::id());
        let parent = parent_of(target);
        let beside = parent.join(&name);
        let path = match std::fs::create_dir(&beside) {
            Ok(()) => beside,
            Err(e) if target.is_dir() => {
                let inside = target.join(&name);
                std::fs::create_dir(&inside).with_context(|| {
                    format!(
                        "cannot create a folder for this run's files beside {} ({e}) or in it",
                        target.display()
                    )
                })?;
                inside
            }
            Err(e) => {
                return Err(e).with_context(|| {
                    crate::error::Diagnostic::error(format!("cannot create {}", beside.display()))
                        .hint(
                            "the output folder's parent must exist and be \
                         writable; choose another with --out",
                        )
                })
            }
        };
        crate::interrupt::register_dir(&path);
        Ok(Staging { path, done: false })
    }

    /// Where this run's files are written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sync every written file, then move them into `target` (made if absent): with `force`,
    /// the previous run's outputs (its manifest's list) are removed first. `manifest.json`
    /// is moved last. Returns nothing; the staging folder is gone afterwards.
    pub fn commit(mut self, target: &Path, force: bool) -> Result<()> {
        let files = relative_files(&self.path)?;
        sync_files(&self.path, &files);
        if !target.exists() && std::fs::symlink_metadata(target).is_err() {
            // Nothing there: the staging folder becomes the output folder in one rename.
            if std::fs::rename(&self.path, target).is_ok() {
                self.done = true;
                crate::interrupt::unregister_dir(&self.path);
                sync_folder(parent_of(target));
                return Ok(());
            }
        }
        let meta = std::fs::metadata(target)
            .with_context(|| format!("cannot read {}", target.display()))?;
        if !meta.is_dir() {
            return Err(crate::error::hinted(
                format!("{} exists and is not a folder", target.display()),
                "choose another with --out",
            ));
        }
        if force {
            remove_previous_outputs(target)?;
        }
        let (manifest, rest): (Vec<&PathBuf>, Vec<&PathBuf>) = files
            .iter()
            .partition(|f| f.as_path() == Path::new("manifest.json"));
        for f in rest.into_iter().chain(manifest) {
            let to = target.join(f);
            if let Some(dir) = f.parent().filter(|d| !d.as_os_str().is_empty()) {
                make_real_dirs(target, dir)?;
            }
            std::fs::rename(self.path.join(f), &to)
                .with_context(|| format!("cannot move {} into place", to.display()))?;
        }
        let _ = std::fs::remove_dir_all(&self.path);
        self.done = true;
        crate::interrupt::unregister_dir(&self.path);
        sync_folder(target);
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            // Only this run's own folder, made fresh by it: nothing of the user's is in it.
            let _ = std::fs::remove_dir_all(&self.path);
            crate::interrupt::unregister_dir(&self.path);
        }
    }
}

/// The folder that holds `target` ("." for a bare name).
fn parent_of(target: &Path) -> &Path {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Every file under `root`, relative to it, in a stable order.
fn relative_files(root: &Path) -> Result<Vec<PathBuf>> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let path = e.path();
            if e.file_type()?.is_dir() {
                walk(root, &path, out)?;
            } else if let Ok(rel) = path.strip_prefix(root) {
                out.push(rel.to_path_buf());
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(root, root, &mut out)?;
    Ok(out)
}

/// The outputs a previous run listed in its manifest, as safe relative paths (no `..`, no
/// root), with the manifest itself.
fn previous_outputs(target: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(target.join("manifest.json")) else {
        return Vec::new();
    };
    let Ok(m) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = m["outputs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .map(PathBuf::from)
        .filter(|p| p.components().all(|c| matches!(c, Component::Normal(_))))
        .collect();
    out.push(PathBuf::from("manifest.json"));
    out
}

/// Remove what the previous run in `target` wrote (its manifest's list), and the folders that
/// leaves empty. A symbolic link among them is removed, not followed.
fn remove_previous_outputs(target: &Path) -> Result<()> {
    let previous = previous_outputs(target);
    let mut dirs: Vec<PathBuf> = Vec::new();
    for f in &previous {
        // A folder on the way that is a link: remove the link, never reach through it.
        let mut at = target.to_path_buf();
        let mut through_link = false;
        for c in f.parent().into_iter().flat_map(|p| p.components()) {
            at.push(c);
            if std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
                std::fs::remove_file(&at)
                    .with_context(|| format!("cannot remove the link {}", at.display()))?;
                through_link = true;
                break;
            }
        }
        if through_link {
            continue;
        }
        let path = target.join(f);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if !m.is_dir() => {
                std::fs::remove_file(&path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
            }
            _ => {}
        }
        let mut d = f.parent();
        while let Some(p) = d.filter(|p| !p.as_os_str().is_empty()) {
            dirs.push(p.to_path_buf());
            d = p.parent();
        }
    }
    // Deepest first; only folders left empty go.
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    dirs.dedup();
    for d in dirs {
        let _ = std::fs::remove_dir(target.join(d));
    }
    Ok(())
}

/// Make `dir` (relative) inside `target` as real folders: a symbolic link where one of them
/// should be is removed first, so that nothing is written through it.
fn make_real_dirs(target: &Path, dir: &Path) -> Result<()> {
    let mut at = target.to_path_buf();
    for c in dir.components() {
        at.push(c);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                std::fs::remove_file(&at)
                    .with_context(|| format!("cannot remove the link {}", at.display()))?;
                std::fs::create_dir(&at)
                    .with_context(|| format!("cannot create {}", at.display()))?;
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(crate::error::hinted(
                    format!("{} is in the way of an output folder", at.display()),
                    "move it, or choose another --out",
                ))
            }
            Err(_) => std::fs::create_dir(&at)
                .with_context(|| format!("cannot create {}", at.display()))?,
        }
    }
    Ok(())
}

/// Make the files' bytes durable before they are moved into place: on Linux one `syncfs` of
/// the staging folder's file system (thousands of practice packs and charts are one call, not
/// one each), elsewhere each file in turn.
fn sync_files(root: &Path, files: &[PathBuf]) {
    #[cfg(target_os = "linux")]
    {
        if let Ok(dir) = std::fs::File::open(root) {
            if rustix::fs::syncfs(&dir).is_ok() {
                return;
            }
        }
    }
    for f in files {
        if let Ok(file) = std::fs::File::open(root.join(f)) {
            let _ = file.sync_all();
        }
    }
}

/// Make the renames into a folder durable (best effort: not every system syncs a folder).
fn sync_folder(dir: &Path) {
    #[cfg(target_os = "linux")]
    {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = rustix::fs::syncfs(&d);
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// A first run makes the folder in one rename; a forced second run removes what the
    /// first listed (its stale pack), keeps a file the user put there, and replaces a pack
    /// folder planted as a link with a real folder, leaving the link's target untouched.
    #[test]
    fn commit_replaces_the_previous_outputs_and_never_follows_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        let s = Staging::create(&target).unwrap();
        write(&s.path().join("a.csv"), "1");
        write(&s.path().join("practices/OLD/review_list.csv"), "old");
        write(
            &s.path().join("manifest.json"),
            r#"{"outputs": ["a.csv", "practices/OLD/review_list.csv", "../escape.txt"]}"#,
        );
        s.commit(&target, false).unwrap();
        assert!(target.join("practices/OLD/review_list.csv").exists());
        std::fs::write(target.join("notes.txt"), "mine").unwrap();
        std::fs::write(dir.path().join("escape.txt"), "outside").unwrap();
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&elsewhere, target.join("practices/NEW")).unwrap();

        let s = Staging::create(&target).unwrap();
        write(&s.path().join("a.csv"), "2");
        write(&s.path().join("practices/NEW/review_list.csv"), "new");
        write(&s.path().join("manifest.json"), r#"{"outputs": ["a.csv"]}"#);
        s.commit(&target, true).unwrap();
        assert_eq!(std::fs::read_to_string(target.join("a.csv")).unwrap(), "2");
        assert!(!target.join("practices/OLD").exists());
        assert_eq!(
            std::fs::read_to_string(target.join("notes.txt")).unwrap(),
            "mine"
        );
        assert!(dir.path().join("escape.txt").exists());
        assert!(std::fs::symlink_metadata(target.join("practices/NEW"))
            .unwrap()
            .is_dir());
        assert_eq!(
            std::fs::read_to_string(target.join("practices/NEW/review_list.csv")).unwrap(),
            "new"
        );
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
        // No staging folder is left beside it.
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".partial"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    /// A run dropped before its commit (an error) leaves nothing: no staging folder, no
    /// output folder.
    #[test]
    fn a_run_that_fails_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        let s = Staging::create(&target).unwrap();
        write(&s.path().join("a.csv"), "1");
        drop(s);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
