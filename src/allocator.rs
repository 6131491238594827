//! The memory allocator freshet's own programs (`freshet`, the benchmark
//! harness) run on.
//!
//! Maintaining views allocates and frees rows and arrangement batches at a
//! high rate, large ones included (a merge of two batches writes a new
//! one and frees both). With the system allocator a third of a busy
//! engine's time went to its free lists, and returning merged batches'
//! memory to the operating system made every later merge fault fresh
//! pages in again. Programs embedding the library choose their own
//! allocator; nothing here is installed by linking freshet.
//!
//! mimalloc is built without transparent huge pages (its `no_thp`
//! feature): it would otherwise ask the kernel for 2 MiB pages for its
//! arenas, and every first touch of one zeroes all 2 MiB. Arrangement
//! batches are allocated and freed in bulk, so a large share of those
//! pages were zeroed for a few rows: with huge pages the invoices
//! benchmark spent about a third of its time in the kernel clearing
//! pages, and a whole run took 5–33% more CPU time (see
//! docs/benchmarks.md).
//!
//! ```ignore
//! #[global_allocator]
//! static GLOBAL: freshet::allocator::Allocator = freshet::allocator::Allocator;
//!
//! fn main() {
//!     freshet::allocator::configure();
//! }
//! ```

/// The allocator type to install with `#[global_allocator]` (mimalloc).
pub use mimalloc::MiMalloc as Allocator;

/// mimalloc's `mi_option_purge_delay` (the numbering of the mimalloc
/// version the `mimalloc` crate builds by default).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long freed memory stays with the process before it is returned to
/// the operating system, in milliseconds: long enough that memory freed by
/// one transaction's merges is reused by the next ones, short enough that
/// an idle process shrinks.
const PURGE_DELAY_MS: std::os::raw::c_long = 10_000;

/// Configures the allocator; call once at the start of `main`, before the
/// first allocation of note. An explicit `MIMALLOC_PURGE_DELAY` in the
/// environment wins.
pub fn configure() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets a plain integer option of the allocator.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, PURGE_DELAY_MS) };
    }
}
