//! Sync rounds that only read, served beside the writer. Most rounds are an idle
//! kiosk's timed sync: nothing to store, only "what changed since my cursor". Such a
//! round runs on a reader connection's snapshot ([`crate::central::read_round`]) and
//! waits neither for the writer's turn ([`crate::sync_queue`]) nor, on PostgreSQL, for
//! the lock the writers of every server process share. A round that turns out to need a
//! write goes on to the writer, which runs it afresh.

use std::sync::{Arc, Mutex};

use blisko_shared::sync::{SyncRequest, SyncResponse};

use crate::central::seal::Sealer;
use crate::central::{CentralError, SyncRecords, contain_panics, may_only_read, read_round};
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
    synced: SyncRecords,
    /// Reader connections not in use; at most one per turn is ever opened.
    idle: Mutex<Vec<ServerStore>>,
    turns: tokio::sync::Semaphore,
}

impl ReadRounds {
    pub(crate) fn new(
        location: StoreLocation,
        sealer: Sealer,
        synced: SyncRecords,
        readers: usize,
    ) -> ReadRounds {
        ReadRounds {
            location,
            sealer,
            synced,
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
        let gone = |e: &dyn std::fmt::Display| CentralError::Internal(e.to_string());
        let _turn = self.turns.acquire().await.map_err(|e| gone(&e))?;
        let this = Arc::clone(self);
        let span = tracing::Span::current();
        let (token, request, answer) = tokio::task::spawn_blocking(move || {
            span.in_scope(|| {
                let answer = this.serve(&token, &request);
                (token, request, answer)
            })
        })
        .await
        .map_err(|e| gone(&e))?;
        Ok(match answer {
            Some(response) => Served::Answered(response),
            None => Served::ToWriter(token, request),
        })
    }

    fn serve(&self, token: &str, request: &SyncRequest) -> Option<SyncResponse> {
        let taken = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut reader = match taken {
            Some(reader) => reader,
            None => match ServerStore::reader(&self.location) {
                Ok(reader) => reader,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot open a reader; the writer serves the round");
                    return None;
                }
            },
        };
        let answer =
            contain_panics(|| read_round(&mut reader, &self.sealer, &self.synced, token, request));
        // A panic unwound the round's transaction (rolled back): the reader is as good
        // as before.
        self.idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(reader);
        answer.unwrap_or_else(|e| {
            tracing::debug!(error = %e, "a read round goes to the writer");
            None
        })
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
