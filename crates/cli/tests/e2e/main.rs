//! End-to-end scenarios: the real `hookflow` binary on an ephemeral 127.0.0.1 port with SQLite
//! in a temporary directory, driven over HTTP, calling a real local HTTP service.
//!
//! One test binary (house style point 9); each module is one area.

mod support;

mod cli;
mod cluster;
mod control_flow;
mod corpus;
mod crash;
mod outbound;
mod recurrence;
mod retries;
mod runs;
mod signing;
mod webhook_action;
mod webhook_trigger;
mod workflows;
