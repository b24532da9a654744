//! Terminal setup and restore: raw mode, the alternate screen, mouse capture,
//! and a panic hook that puts the terminal back before the message prints.

use std::io::{self, Stdout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;
use std::time::Duration;

use crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event as CtEvent, KeyEventKind,
};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

use super::app::Msg;

/// The terminal while the interface owns it. Dropping it restores the
/// terminal, so an early `?` return leaves the shell usable.
pub struct Tui {
    terminal: Terminal<CrosstermBackend<Stdout>>,
    restored: bool,
}

static PANIC_HOOK: Once = Once::new();
/// The interface owns the terminal (the panic hook restores it only then).
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// Some thread panicked while the interface was up: the loop stops.
static PANICKED: AtomicBool = AtomicBool::new(false);

/// True once any thread has panicked while the interface was up; the
/// terminal is already restored then, so the loop must stop drawing.
pub fn panicked() -> bool {
    PANICKED.load(Ordering::SeqCst)
}

impl Tui {
    /// Raw mode, alternate screen, mouse capture, hidden cursor; installs the
    /// panic hook (once per process).
    pub fn enter() -> io::Result<Tui> {
        install_panic_hook();
        enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        let mut stdout = io::stdout();
        if let Err(e) = execute!(stdout, EnterAlternateScreen, EnableMouseCapture) {
            restore();
            return Err(e);
        }
        let terminal = match Terminal::new(CrosstermBackend::new(stdout)) {
            Ok(t) => t,
            Err(e) => {
                restore();
                return Err(e);
            }
        };
        let mut tui = Tui {
            terminal,
            restored: false,
        };
        tui.terminal.hide_cursor()?;
        // The alternate screen starts blank; `Terminal::clear` would ask the
        // terminal for the cursor position, which some never answer.
        Ok(tui)
    }

    /// The terminal's size.
    pub fn size(&self) -> io::Result<ratatui::layout::Size> {
        self.terminal.size()
    }

    /// Draws one frame.
    pub fn draw(&mut self, f: impl FnOnce(&mut ratatui::Frame)) -> io::Result<()> {
        self.terminal.draw(f).map(|_| ())
    }

    /// Restores the terminal and reports whether that worked.
    pub fn leave(mut self) -> io::Result<()> {
        self.restored = true;
        ACTIVE.store(false, Ordering::SeqCst);
        let _ = self.terminal.show_cursor();
        disable_raw_mode()?;
        // The cursor is shown again after leaving the alternate screen too:
        // some terminals (tmux) keep the visibility per screen.
        execute!(
            self.terminal.backend_mut(),
            DisableMouseCapture,
            LeaveAlternateScreen,
            crossterm::cursor::Show
        )
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        if !self.restored {
            let _ = self.terminal.show_cursor();
            restore();
        }
    }
}

/// Best-effort restore, safe to call more than once.
pub fn restore() {
    ACTIVE.store(false, Ordering::SeqCst);
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

fn install_panic_hook() {
    PANIC_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // Only while the interface is up: a panic elsewhere in a
            // `print` run must not write escape sequences to stdout.
            if ACTIVE.load(Ordering::SeqCst) {
                PANICKED.store(true, Ordering::SeqCst);
                restore();
            }
            previous(info);
        }));
    });
}

/// Waits up to `timeout` for input, then takes everything already queued,
/// as [`Msg`]s. Key releases (sent by some terminals) are dropped.
pub fn read_input(timeout: Duration) -> io::Result<Vec<Msg>> {
    let mut out = Vec::new();
    if !event::poll(timeout)? {
        return Ok(out);
    }
    // Bounded, so a flood of mouse motion cannot keep the loop from drawing.
    for _ in 0..64 {
        match event::read()? {
            CtEvent::Key(k) if k.kind != KeyEventKind::Release => out.push(Msg::Key(k)),
            CtEvent::Mouse(m) => out.push(Msg::Mouse(m)),
            CtEvent::Resize(w, h) => out.push(Msg::Resize(w, h)),
            _ => {}
        }
        if !event::poll(Duration::ZERO)? {
            break;
        }
    }
    Ok(out)
}
