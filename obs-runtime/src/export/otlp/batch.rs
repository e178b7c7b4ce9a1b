//! A bounded queue in front of an OTLP exporter, drained in batches by a task
//! on the exporter's own thread.
//!
//! The application only ever calls [`Queue::push`]: a `try_send` that drops
//! (and counts) the item when the queue is full, so a slow or unreachable
//! backend costs the application nothing but the items it could not take.
//! The task sends a batch when it is full or when the schedule delay passes,
//! each send bounded by the signal's timeout; a failed send drops its batch
//! (counted), logs at most one warning per minute per signal, and the next
//! batch is tried as if nothing happened, so export resumes by itself when
//! the backend returns.

use super::config::Batching;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// What the application side sends to the task.
pub(crate) enum Item<T> {
    Data(T),
    /// Export what is queued, then answer; with `stop`, then end the task.
    Flush {
        ack: oneshot::Sender<()>,
        stop: bool,
    },
}

/// The application's end of the queue.
pub(crate) struct Queue<T> {
    tx: mpsc::Sender<Item<T>>,
    dropped: crate::metrics::Counter,
}

impl<T: Send + 'static> Queue<T> {
    /// Never blocks: a full queue drops `item` and counts it.
    pub(crate) fn push(&self, item: T) {
        if self.tx.try_send(Item::Data(item)).is_err() {
            self.dropped.increment(1);
        }
    }

    /// Asks the task to export what is queued (and with `stop`, to end) and
    /// waits for it, at most until `deadline`.
    pub(crate) fn flush(&self, deadline: Instant, stop: bool) {
        let (ack, done) = oneshot::channel();
        let mut msg = Item::Flush { ack, stop };
        loop {
            match self.tx.try_send(msg) {
                Ok(()) => break,
                Err(mpsc::error::TrySendError::Full(m)) if Instant::now() < deadline => {
                    msg = m;
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(_) => return,
            }
        }
        let wait = deadline.saturating_duration_since(Instant::now());
        let _ = wait_oneshot(done, wait);
    }
}

/// Waits for a oneshot from a thread outside the runtime, at most `wait`.
pub(crate) fn wait_oneshot<T>(mut rx: oneshot::Receiver<T>, wait: Duration) -> Option<T> {
    let deadline = Instant::now() + wait;
    loop {
        match rx.try_recv() {
            Ok(v) => return Some(v),
            Err(oneshot::error::TryRecvError::Closed) => return None,
            Err(oneshot::error::TryRecvError::Empty) if Instant::now() >= deadline => return None,
            Err(oneshot::error::TryRecvError::Empty) => std::thread::sleep(Duration::from_millis(2)),
        }
    }
}

/// Makes a queue and the task that drains it into `send`.
pub(crate) fn queue<T, F, Fut>(
    signal: &'static str,
    batching: Batching,
    timeout: Duration,
    dropped: [crate::metrics::Counter; 2],
    mut send: F,
) -> (Queue<T>, impl Future<Output = ()>)
where
    T: Send + 'static,
    F: FnMut(Vec<T>) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let (tx, mut rx) = mpsc::channel::<Item<T>>(batching.max_queue.max(1));
    let [queue_full, export_failed] = dropped;
    let q = Queue { tx, dropped: queue_full };
    let task = async move {
        let mut warned: Option<Instant> = None;
        let mut batch: Vec<T> = Vec::with_capacity(batching.max_batch);
        let mut acks: Vec<oneshot::Sender<()>> = Vec::new();
        let mut next = tokio::time::Instant::now() + batching.delay;
        loop {
            let closed = tokio::select! {
                item = rx.recv() => match item {
                    Some(Item::Data(d)) => { batch.push(d); false }
                    Some(Item::Flush { ack, stop }) => { acks.push(ack); stop }
                    None => true,
                },
                _ = tokio::time::sleep_until(next) => false,
            };
            let due = tokio::time::Instant::now() >= next;
            if batch.len() >= batching.max_batch || !acks.is_empty() || due || closed {
                // A flush exports everything queued before it, in batches.
                while !batch.is_empty() {
                    let rest =
                        if batch.len() > batching.max_batch { batch.split_off(batching.max_batch) } else { Vec::new() };
                    let n = batch.len() as u64;
                    let chunk = std::mem::replace(&mut batch, rest);
                    let outcome = match tokio::time::timeout(timeout, send(chunk)).await {
                        Ok(r) => r,
                        Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
                    };
                    match outcome {
                        Ok(()) => {}
                        Err(e) => {
                            export_failed.increment(n);
                            if warned.map_or(true, |t| t.elapsed() >= Duration::from_secs(60)) {
                                warned = Some(Instant::now());
                                tracing::warn!(
                                    target: "obs_runtime",
                                    "obs: OTLP {signal} export failed, {n} dropped (counted in obs_otlp_dropped_total; \
                                     at most one such warning a minute): {e}"
                                );
                            }
                        }
                    }
                    if acks.is_empty() && !closed {
                        break;
                    }
                }
                for ack in acks.drain(..) {
                    let _ = ack.send(());
                }
                next = tokio::time::Instant::now() + batching.delay;
            }
            if closed && batch.is_empty() {
                return;
            }
        }
    };
    (q, task)
}
