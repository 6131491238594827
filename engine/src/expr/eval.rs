//! Evaluation of [`Expr`](super::Expr).
