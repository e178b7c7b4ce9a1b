//! The span attribute names obs declares and records, from `obs-shared`: the
//! macros declare a span's fields from the same list, so a name cannot differ
//! between where a field is declared and where it is recorded (`tracing`
//! drops a record into an undeclared field without a word).

pub(crate) use obs_shared::semconv::*;
