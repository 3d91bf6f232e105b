//! The context model (issue 5): what every CPU and task was doing over time, rebuilt from
//! events. Lock holds are the contract between the context builder and the detectors.

pub mod locks;
