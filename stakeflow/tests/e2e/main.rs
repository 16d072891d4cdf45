//! End-to-end tests against the real broker (tansu) and the real chain
//! runtime (chopsticks on the Paseo genesis). One test binary, one module per
//! scenario.

mod campaign;
mod chain_state;
mod broker_outage;
mod common;
mod dead_letter;
mod delayed;
mod interrupted_window;
mod network;
mod nominator;
mod one_writer;
mod processes;
mod programme_topics;
mod restart;
mod scoring_round;
mod run_binary;
mod scale_out;
mod slice;
mod submit_load;
mod telemetry;
