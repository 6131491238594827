//! Plan rewrites: predicate push-down, inner-join ordering, equi-key
//! extraction, filter and map fusion.
