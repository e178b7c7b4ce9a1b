//! The provider of a model, from its name: a leaf of the module graph, used by
//! the call layer (the `provider` label), pricing (a price entry's default
//! provider) and generated code (the span of a runtime model name). The rule
//! itself lives in `obs-shared`, so the macros and the runtime agree.

pub use obs_shared::infer_provider;
