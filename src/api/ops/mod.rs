//! Typed operations: one function per action decom calls, with response models and paging.
