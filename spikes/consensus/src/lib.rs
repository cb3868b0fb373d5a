//! Spike: Weft-shaped blocks ordered by commonware `simplex`, delivered by `marshal`.
//! Weft code here is only the adapter; the engine decides.

pub mod app;
pub mod block;
pub mod evidence;
pub mod gossip;
pub mod validator;
