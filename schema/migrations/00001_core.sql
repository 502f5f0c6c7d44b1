-- Core layout: events, the addresses they name, the files restored from
-- them, and the IRS nodes that produce them.
--
-- Portable MySQL: runs unchanged on MySQL 8, MariaDB 10.6+, TiDB and
-- Vitess. Hence no foreign keys (sharded stores do not enforce them; the
-- sink writes an event and its children in one transaction instead), no
-- FULLTEXT (TiDB lacks it; subject search uses a prefix index) and JSON
-- columns declared as JSON (MariaDB maps them to LONGTEXT with a JSON check).
--
-- Warrants come later but are planned for here: every event has an owner
-- (liid), a per-owner sequence number and a hash-chain link; every stored
-- file has its SHA-256 as an indexed column.

-- +goose Up
CREATE TABLE events (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    -- uid is the idempotency key: a replayed event is never stored twice.
    uid          CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    node         VARCHAR(64) NOT NULL,
    protocol     VARCHAR(32) NOT NULL,
    type         VARCHAR(64) NOT NULL,
    start_ts     DATETIME(6) NOT NULL,
    end_ts       DATETIME(6) NOT NULL,
    transport    VARCHAR(16) NOT NULL DEFAULT '',
    client_ip    VARCHAR(45) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL DEFAULT '',
    client_port  INT UNSIGNED NOT NULL DEFAULT 0,
    server_ip    VARCHAR(45) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL DEFAULT '',
    server_port  INT UNSIGNED NOT NULL DEFAULT 0,
    subject      VARCHAR(1024) NOT NULL DEFAULT '',
    summary      JSON NULL,
    anomalies    JSON NULL,
    -- raw_ref: the session pcap, relative to the owning node's data directory.
    raw_ref      VARCHAR(1024) NOT NULL DEFAULT '',
    -- Warrant ownership (lawful interception identifier), NULL until
    -- warrant-scoped interception assigns it, liid_seq is the per-LIID
    -- sequence number and chain_hash the SHA-256 link of the per-LIID chain.
    liid         VARCHAR(64) NULL,
    liid_seq     BIGINT UNSIGNED NULL,
    chain_hash   CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
    created_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY uq_events_uid (uid),
    UNIQUE KEY uq_events_liid_seq (liid, liid_seq),
    KEY ix_events_start (start_ts),
    KEY ix_events_protocol_start (protocol, start_ts),
    KEY ix_events_type_start (type, start_ts),
    KEY ix_events_client_ip (client_ip, start_ts),
    KEY ix_events_server_ip (server_ip, start_ts),
    KEY ix_events_node_start (node, start_ts),
    KEY ix_events_subject (subject(191))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE event_addresses (
    id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    event_id   BIGINT UNSIGNED NOT NULL,
    -- Case-insensitive so that a search for Alice@Example.org finds
    -- alice@example.org through the index.
    address    VARCHAR(320) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
    role       VARCHAR(16) NOT NULL,
    PRIMARY KEY (id),
    KEY ix_event_addresses_address (address, event_id),
    KEY ix_event_addresses_event (event_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE artifacts (
    id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    event_id       BIGINT UNSIGNED NOT NULL,
    kind           VARCHAR(16) NOT NULL,
    name           VARCHAR(1024) NOT NULL DEFAULT '',
    content_type   VARCHAR(255) NOT NULL DEFAULT '',
    size           BIGINT NOT NULL DEFAULT 0,
    sha256         CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    md5            CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
    -- path: relative to the owning node's data directory.
    path           VARCHAR(1024) NOT NULL DEFAULT '',
    parent_sha256  CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
    created_at     DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    KEY ix_artifacts_event (event_id),
    KEY ix_artifacts_sha256 (sha256),
    KEY ix_artifacts_parent (parent_sha256)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE irs_nodes (
    name            VARCHAR(64) NOT NULL,
    api_url         VARCHAR(255) NOT NULL DEFAULT '',
    status          VARCHAR(32) NOT NULL DEFAULT '',
    version         VARCHAR(64) NOT NULL DEFAULT '',
    started_at      DATETIME(6) NULL,
    -- Database clock, not the node's: heartbeats of several nodes compare.
    last_heartbeat  DATETIME(6) NOT NULL,
    stats           JSON NULL,
    PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE irs_nodes;
DROP TABLE artifacts;
DROP TABLE event_addresses;
DROP TABLE events;
