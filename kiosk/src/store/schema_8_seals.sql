-- Migration 8: the server's seal on each document (docs/sync-protocol.md, "A restored
-- server"): the MAC (32 bytes) followed by the heads it covers (32 bytes each), as the
-- server last gave it with a pulled document. NULL until the document is next pulled.
ALTER TABLE documents ADD COLUMN seal BLOB;
