//! Open and Export that always work: the desktop's file dialog (XDG portal, else zenity)
//! when one answers, else a built-in one (a path field over a directory listing). A plain
//! window manager or a remote X display has no portal: the native call then returns
//! nothing at once, which a person cancelling a dialog never manages, and the built-in
//! dialog opens instead.

use egui::Ui;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A native dialog that returns nothing sooner than this never showed.
const NO_DIALOG_WITHIN: Duration = Duration::from_millis(700);

/// What the dialog is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Pick files to open (a trace, kallsyms, console logs).
    Open,
    /// Pick a second trace to compare with the open one.
    Compare,
    /// A file to write the report to, in the format of [`super::export::FORMATS`]`[i]`.
    Export(usize),
}

/// What the user chose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Chosen {
    Open(Vec<PathBuf>),
    Compare(Vec<PathBuf>),
    Export(usize, PathBuf),
}

/// The built-in dialog.
#[derive(Clone, Debug)]
pub struct PathDialog {
    pub purpose: Purpose,
    /// The directory listed.
    pub dir: PathBuf,
    /// The path field: typed, or filled by clicking the listing.
    pub path: String,
    /// Files picked to open together (a trace and its sidecars).
    pub picked: Vec<PathBuf>,
    entries: Vec<(String, bool)>,
    pub error: Option<String>,
}

/// What the desktop's dialog did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Native<T> {
    Chosen(T),
    Cancelled,
    /// It returned nothing too soon to have been shown (no portal, no zenity).
    NotShown,
}

/// Calls `native`, the desktop's dialog, and tells a cancel from a dialog never shown.
pub fn try_native<T>(native: impl FnOnce() -> Option<T>) -> Native<T> {
    let started = Instant::now();
    match native() {
        Some(v) => Native::Chosen(v),
        None if started.elapsed() < NO_DIALOG_WITHIN => Native::NotShown,
        None => Native::Cancelled,
    }
}

impl PathDialog {
    /// A dialog listing `dir` (the current directory when it cannot be read).
    pub fn new(purpose: Purpose, dir: PathBuf, file_name: &str) -> PathDialog {
        let mut d = PathDialog {
            purpose,
            dir: PathBuf::new(),
            path: String::new(),
            picked: Vec::new(),
            entries: Vec::new(),
            error: None,
        };
        d.enter(dir);
        if !file_name.is_empty() {
            d.path = d.dir.join(file_name).display().to_string();
        }
        d
    }

    /// Lists `dir`: folders first, then files, by name; hidden ones left out.
    pub fn enter(&mut self, dir: PathBuf) {
        match std::fs::read_dir(&dir) {
            Ok(read) => {
                let mut entries: Vec<(String, bool)> = read
                    .filter_map(Result::ok)
                    .map(|e| {
                        let is_dir = e.path().is_dir();
                        (e.file_name().to_string_lossy().into_owned(), is_dir)
                    })
                    .filter(|(n, _)| !n.starts_with('.'))
                    .collect();
                entries.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                let name = Path::new(&self.path).file_name().map(PathBuf::from);
                self.entries = entries;
                self.dir = dir;
                if let (Purpose::Export(_), Some(name)) = (self.purpose, name) {
                    self.path = self.dir.join(name).display().to_string();
                }
                self.error = None;
            }
            Err(e) => self.error = Some(format!("{}: {e}", dir.display())),
        }
    }

    /// The entries listed: name, is a directory.
    pub fn entries(&self) -> &[(String, bool)] {
        &self.entries
    }

    /// What the path field and the picked files amount to, or why not yet.
    fn choice(&self) -> Result<Chosen, String> {
        let typed = self.path.trim();
        match self.purpose {
            Purpose::Open | Purpose::Compare => {
                let mut files = self.picked.clone();
                if !typed.is_empty() && !files.iter().any(|p| p.as_os_str() == typed) {
                    files.push(PathBuf::from(typed));
                }
                if files.is_empty() {
                    return Err("pick a file or type its path".to_owned());
                }
                match files.iter().find(|p| !p.is_file()) {
                    Some(p) => Err(format!("{}: no such file", p.display())),
                    None if self.purpose == Purpose::Compare => Ok(Chosen::Compare(files)),
                    None => Ok(Chosen::Open(files)),
                }
            }
            Purpose::Export(i) => {
                let path = PathBuf::from(typed);
                let parent_ok = path
                    .parent()
                    .is_none_or(|p| p.as_os_str().is_empty() || p.is_dir());
                if typed.is_empty() || path.is_dir() {
                    Err("type a file name".to_owned())
                } else if !parent_ok {
                    Err(format!(
                        "{}: no such folder",
                        path.parent().unwrap_or(&path).display()
                    ))
                } else {
                    Ok(Chosen::Export(i, path))
                }
            }
        }
    }
}

/// Draws the dialog; returns the choice once made. `open` turns false on cancel.
pub fn path_dialog_ui(ctx: &egui::Context, d: &mut PathDialog, open: &mut bool) -> Option<Chosen> {
    let title = match d.purpose {
        Purpose::Open => "Open files",
        Purpose::Compare => "Compare with",
        Purpose::Export(_) => "Export the report to",
    };
    let mut chosen = None;
    egui::Window::new(title)
        .collapsible(false)
        .default_size([560.0, 420.0])
        .show(ctx, |ui| chosen = body(ui, d, open));
    chosen
}

fn body(ui: &mut Ui, d: &mut PathDialog, open: &mut bool) -> Option<Chosen> {
    ui.horizontal(|ui| {
        if ui.button("up").on_hover_text("the parent folder").clicked()
            && let Some(parent) = d.dir.parent().map(Path::to_path_buf)
        {
            d.enter(parent);
        }
        ui.monospace(d.dir.display().to_string());
    });
    let field = ui.add(
        egui::TextEdit::singleline(&mut d.path)
            .hint_text("a path, or click the files below")
            .desired_width(f32::INFINITY),
    );
    let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    if entered && Path::new(d.path.trim()).is_dir() {
        let dir = PathBuf::from(d.path.trim());
        d.path.clear();
        d.enter(dir);
    }
    let mut enter = None;
    egui::ScrollArea::vertical()
        .max_height(420.0)
        .auto_shrink([false, false])
        .show(ui, |ui| {
            for (name, is_dir) in &d.entries {
                let path = d.dir.join(name);
                let picked = d.picked.contains(&path);
                let label = if *is_dir {
                    format!("{name}/")
                } else {
                    name.clone()
                };
                if ui.selectable_label(picked, label).clicked() {
                    if *is_dir {
                        enter = Some(path);
                    } else if !matches!(d.purpose, Purpose::Export(_)) {
                        // Clicking files picks them together (a trace and its sidecars).
                        if picked {
                            d.picked.retain(|p| *p != path);
                        } else {
                            d.picked.push(path);
                        }
                        d.path.clear();
                    } else {
                        d.path = path.display().to_string();
                    }
                }
            }
        });
    if let Some(dir) = enter {
        d.enter(dir);
    }
    if !d.picked.is_empty() {
        let names: Vec<String> = d.picked.iter().map(|p| p.display().to_string()).collect();
        ui.weak(format!("picked: {}", names.join(", ")));
    }
    if let Some(e) = &d.error {
        ui.colored_label(super::theme::LOST, e);
    }
    let mut chosen = None;
    ui.horizontal(|ui| {
        let go = match d.purpose {
            Purpose::Open => "Open",
            Purpose::Compare => "Compare",
            Purpose::Export(_) => "Save",
        };
        if ui.button(go).clicked() || (entered && !Path::new(d.path.trim()).is_dir()) {
            match d.choice() {
                Ok(c) => chosen = Some(c),
                Err(e) => d.error = Some(e),
            }
        }
        if ui.button("Cancel").clicked() {
            *open = false;
        }
    });
    chosen
}
