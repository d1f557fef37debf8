//! The call gate: at most `parallelism` API calls in flight, and when calls queue, the one
//! whose step heads the longest remaining path of the graph goes first (critical path
//! first), so a slow chain (terminate → wait Terminated → delete) never waits behind a
//! crowd of independent deletes.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Mutex;

use tokio::sync::oneshot;

#[derive(Debug)]
struct State {
    free: usize,
    /// (priority, FIFO among equals, hand-over channel).
    waiters: BinaryHeap<(u64, Reverse<u64>, Waiter)>,
    seq: u64,
}

#[derive(Debug)]
struct Waiter(oneshot::Sender<()>);

impl PartialEq for Waiter {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for Waiter {}
impl PartialOrd for Waiter {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiter {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

/// A counting gate with priorities.
#[derive(Debug)]
pub struct Gate {
    state: Mutex<State>,
}

/// One slot of the gate, released on drop.
#[derive(Debug)]
pub struct Permit<'a> {
    gate: &'a Gate,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.gate.release();
    }
}

/// A queued acquisition; if it is dropped after a slot was handed to it, it gives it back.
struct Queued<'a> {
    gate: &'a Gate,
    rx: Option<oneshot::Receiver<()>>,
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        if let Some(mut rx) = self.rx.take() {
            rx.close();
            if rx.try_recv().is_ok() {
                self.gate.release();
            }
        }
    }
}

impl Gate {
    /// A gate with `slots` slots (at least 1).
    pub fn new(slots: usize) -> Gate {
        Gate {
            state: Mutex::new(State {
                free: slots.max(1),
                waiters: BinaryHeap::new(),
                seq: 0,
            }),
        }
    }

    /// Wait for a slot; higher `priority` is served first, equal priorities in order.
    pub async fn acquire(&self, priority: u64) -> Permit<'_> {
        let rx = {
            let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if st.free > 0 && st.waiters.is_empty() {
                st.free -= 1;
                return Permit { gate: self };
            }
            let (tx, rx) = oneshot::channel();
            st.seq += 1;
            let seq = st.seq;
            st.waiters.push((priority, Reverse(seq), Waiter(tx)));
            rx
        };
        let mut queued = Queued {
            gate: self,
            rx: Some(rx),
        };
        let rx = queued.rx.as_mut().expect("set above");
        // The sender is only dropped after a hand-over (or never): an error cannot happen
        // while the gate lives.
        let _ = rx.await;
        queued.rx = None;
        Permit { gate: self }
    }

    /// Hand the slot to the best live waiter, or free it.
    fn release(&self) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while let Some((_, _, Waiter(tx))) = st.waiters.pop() {
            if tx.send(()).is_ok() {
                return;
            }
        }
        st.free += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn the_highest_priority_waiter_goes_first_and_slots_are_never_lost() {
        let gate = Arc::new(Gate::new(1));
        let order = Arc::new(Mutex::new(Vec::new()));
        let first = gate.acquire(0).await;
        let mut tasks = Vec::new();
        for (i, prio) in [(1u64, 5u64), (2, 50), (3, 5), (4, 20)] {
            let (gate, order) = (gate.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let _p = gate.acquire(prio).await;
                order.lock().unwrap().push(i);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }));
            tokio::task::yield_now().await;
        }
        // One waiter gives up before it is served: its slot must not leak.
        let quitter = {
            let gate = gate.clone();
            tokio::spawn(async move {
                let _ = tokio::time::timeout(Duration::from_millis(1), gate.acquire(1000)).await;
            })
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
        quitter.await.unwrap();
        drop(first);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![2, 4, 1, 3]);
        // All slots are back.
        let _a = gate.acquire(0).await;
    }
}
