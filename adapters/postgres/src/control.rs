//! `alter-view --refresh`, `pause` and `resume`: catalog changes the
//! running adapter picks up at its next round (it is woken for it).

use postgres::Client;

use crate::error::{PgError, Result};
use crate::ident::quote_literal;
use crate::policy::RefreshPolicy;
use crate::schema::{check_installed, WAKEUP_CHANNEL};

/// What [`resume`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resumed {
    /// A paused view: its held changes are written by its policy.
    Unpaused,
    /// A failed view: the adapter rebuilds it from a fresh snapshot (and
    /// marks it failed again if the error persists).
    Rebuilding {
        /// Why it had failed.
        was: String,
    },
    /// The view was neither paused nor failed.
    AlreadyRunning,
}

fn state_of(client: &mut impl postgres::GenericClient, name: &str) -> Result<(String, Option<String>)> {
    let row = client
        .query_opt("SELECT state, error FROM freshet.views WHERE name = $1 FOR UPDATE", &[&name])?
        .ok_or_else(|| PgError::Usage(format!("view \"{name}\" does not exist")))?;
    Ok((row.get(0), row.get(1)))
}

fn wake(tx: &mut postgres::Transaction<'_>, name: &str) -> Result<()> {
    tx.batch_execute(&format!("NOTIFY {WAKEUP_CHANNEL}, {}", quote_literal(name)))?;
    Ok(())
}

/// Sets a view's refresh policy. Changes it held under the old policy are
/// written by the new one.
pub fn alter_refresh(client: &mut Client, name: &str, policy: &RefreshPolicy) -> Result<()> {
    check_installed(client)?;
    let mut tx = client.transaction()?;
    state_of(&mut tx, name)?;
    tx.execute(
        "UPDATE freshet.views SET refresh = $2, refresh_interval = $3::text::interval WHERE name = $1",
        &[&name, &policy.kind(), &policy.interval_text()],
    )?;
    wake(&mut tx, name)?;
    tx.commit()?;
    Ok(())
}

/// Pauses a view: its sources' changes are still captured and applied to
/// the engine, but its table is not written until [`resume`].
pub fn pause(client: &mut Client, name: &str) -> Result<()> {
    check_installed(client)?;
    let mut tx = client.transaction()?;
    match state_of(&mut tx, name)? {
        (s, _) if s == "paused" => return Ok(()),
        (s, reason) if s == "failed" => {
            return Err(PgError::ViewFailed { view: name.to_string(), reason: reason.unwrap_or_default() })
        }
        _ => {}
    }
    tx.execute("UPDATE freshet.views SET state = 'paused' WHERE name = $1", &[&name])?;
    wake(&mut tx, name)?;
    tx.commit()?;
    Ok(())
}

/// Resumes a paused view (it catches up exactly with what it missed), or
/// restarts a failed one, which the adapter rebuilds from a fresh
/// snapshot of its sources.
pub fn resume(client: &mut Client, name: &str) -> Result<Resumed> {
    check_installed(client)?;
    let mut tx = client.transaction()?;
    let outcome = match state_of(&mut tx, name)? {
        (s, _) if s == "paused" => Resumed::Unpaused,
        (s, reason) if s == "failed" => Resumed::Rebuilding { was: reason.unwrap_or_default() },
        _ => return Ok(Resumed::AlreadyRunning),
    };
    tx.execute("UPDATE freshet.views SET state = 'ok', error = NULL WHERE name = $1", &[&name])?;
    wake(&mut tx, name)?;
    tx.commit()?;
    Ok(outcome)
}
