//! Sync rounds that only read, served beside the writer. Most rounds are an idle
//! kiosk's timed sync: nothing to store, only "what changed since my cursor". Such a
//! round runs on a reader connection's snapshot ([`crate::central::read_round`]) and
//! waits neither for the writer's turn ([`crate::sync_queue`]) nor, on PostgreSQL, for
//! the lock the writers of every server process share. A round that turns out to need a
//! write goes on to the writer, which runs it afresh.

use std::sync::{Arc, Mutex};

use blisko_shared::sync::{SyncRequest, SyncResponse};

use crate::central::seal::Sealer;
use crate::central::{
    CentralError, contain_panics, credential_accepted, may_only_read, read_round,
};
use crate::store::{ServerStore, StoreLocation};

/// How a round was served.
pub enum Served {
    /// Answered from a snapshot.
    Answered(SyncResponse),
    /// The writer's to run, with the credential and request given back.
    ToWriter(String, SyncRequest),
}

/// The reader connections and what a round needs beside them. Cheap to share.
pub struct ReadRounds {
    location: StoreLocation,
    sealer: Sealer,
    /// Reader connections not in use; at most one per turn is ever opened.
    idle: Mutex<Vec<ServerStore>>,
    turns: tokio::sync::Semaphore,
}

impl ReadRounds {
    pub(crate) fn new(location: StoreLocation, sealer: Sealer, readers: usize) -> ReadRounds {
        ReadRounds {
            location,
            sealer,
            idle: Mutex::new(Vec::new()),
            turns: tokio::sync::Semaphore::new(readers.max(1)),
        }
    }

    /// Serve the round on a reader if it only reads, on a blocking thread once a reader
    /// is free; otherwise give it back for the writer.
    pub async fn run(
        self: &Arc<Self>,
        token: String,
        request: SyncRequest,
    ) -> Result<Served, CentralError> {
        if !may_only_read(&request) {
            return Ok(Served::ToWriter(token, request));
        }
        let (token, request, answer) = self
            .on_turn(move |this| {
                let answer = this.serve(&token, &request);
                (token, request, answer)
            })
            .await?;
        Ok(match answer {
            Some(response) => Served::Answered(response),
            None => Served::ToWriter(token, request),
        })
    }

    /// Whether `token` is the credential of a kiosk in good standing, checked on a
    /// reader's snapshot. A kiosk's first sync with a server process is checked here,
    /// without waiting for the writer's turn: on PostgreSQL that turn may wait for
    /// other processes' transactions, and after an enrollment wave every kiosk's first
    /// sync with each process would wait in line. `false` when it is not, or when no
    /// reader could tell: the writer then checks it again, and audits a refusal.
    pub async fn accepts(self: &Arc<Self>, token: String) -> bool {
        self.on_turn(move |this| {
            this.on_reader(|reader| credential_accepted(reader, &token))
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false)
    }

    /// `work` on a blocking thread once a reader's turn is free.
    async fn on_turn<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&Self) -> T + Send + 'static,
    ) -> Result<T, CentralError> {
        let gone = |e: &dyn std::fmt::Display| CentralError::Internal(e.to_string());
        let _turn = self.turns.acquire().await.map_err(|e| gone(&e))?;
        let this = Arc::clone(self);
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| work(&this)))
            .await
            .map_err(|e| gone(&e))
    }

    fn serve(&self, token: &str, request: &SyncRequest) -> Option<SyncResponse> {
        self.on_reader(|reader| read_round(reader, &self.sealer, token, request))
            .flatten()
    }

    /// `read` on an idle reader connection (opened when there is none). `None` when no
    /// reader could be opened or `read` failed: the writer then does it.
    fn on_reader<T>(
        &self,
        read: impl FnOnce(&mut ServerStore) -> Result<T, CentralError>,
    ) -> Option<T> {
        let taken = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut reader = match taken {
            Some(reader) => reader,
            None => match ServerStore::reader(&self.location) {
                Ok(reader) => reader,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot open a reader; the writer does its work");
                    return None;
                }
            },
        };
        let result = contain_panics(|| read(&mut reader));
        // A panic unwound the reader's transaction (rolled back): the reader is as good
        // as before.
        self.idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(reader);
        result
            .inspect_err(|e| tracing::debug!(error = %e, "a reader's work goes to the writer"))
            .ok()
    }
}

impl Drop for ReadRounds {
    /// A PostgreSQL connection closes by blocking on its own runtime, which panics on a
    /// thread of the server's: the readers close on a thread of their own.
    fn drop(&mut self) {
        let readers = std::mem::take(self.idle.get_mut().unwrap_or_else(|p| p.into_inner()));
        if !readers.is_empty() {
            let closing = std::thread::Builder::new()
                .name("close-readers".into())
                .spawn(move || drop(readers));
            if let Err(e) = closing {
                tracing::warn!(error = %e, "cannot close the readers on a thread of their own");
            }
        }
    }
}
