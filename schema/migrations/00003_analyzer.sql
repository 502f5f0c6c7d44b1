-- Analyzer: user accounts, their login sessions and the audit log.
--
-- Sessions are stored by the SHA-256 of their token, never the token
-- itself, so that a read of this table does not hand out live sessions.
--
-- The audit log is append-only. The analyzer only ever INSERTs and
-- SELECTs it, and the two triggers below refuse UPDATE and DELETE for
-- everybody, administrators of the database included (they must drop a
-- trigger first, which is itself visible). Each row carries a SHA-256
-- hash chain link: hash = SHA-256(prev_hash and the row's fields), which
-- the analyzer's verifier recomputes. detail is TEXT, not JSON: MySQL 8
-- rewrites JSON values (key order, spacing) and the hash covers the exact
-- bytes written. seq is the chain position, set by the writer, so that
-- two writers racing for the same position collide on the primary key
-- instead of forking the chain.
--
-- Triggers are plain MySQL and MariaDB. TiDB has no triggers: there the
-- append-only rule rests on grants (INSERT and SELECT only on audit_log
-- for the analyzer's account) and on the hash chain.

-- +goose Up
CREATE TABLE users (
    id                   BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    -- Case-insensitive: Alice and alice are the same account.
    name                 VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
    role                 VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    -- bcrypt, in its modular crypt format.
    password_hash        VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    disabled             BOOLEAN NOT NULL DEFAULT FALSE,
    created_at           DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    password_changed_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    last_login_at        DATETIME(6) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_users_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE sessions (
    token_sha256  CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    user_id       BIGINT UNSIGNED NOT NULL,
    -- The anti-CSRF token the web UI sends back in a header.
    csrf_token    CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    client_ip     VARCHAR(45) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL DEFAULT '',
    user_agent    VARCHAR(255) NOT NULL DEFAULT '',
    created_at    DATETIME(6) NOT NULL,
    last_seen_at  DATETIME(6) NOT NULL,
    expires_at    DATETIME(6) NOT NULL,
    PRIMARY KEY (token_sha256),
    KEY ix_sessions_user (user_id),
    KEY ix_sessions_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE audit_log (
    seq        BIGINT UNSIGNED NOT NULL,
    ts         DATETIME(6) NOT NULL,
    actor      VARCHAR(64) NOT NULL DEFAULT '',
    actor_role VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
    client_ip  VARCHAR(45) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL DEFAULT '',
    action     VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    target     VARCHAR(1024) NOT NULL DEFAULT '',
    outcome    VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    detail     TEXT NULL,
    prev_hash  CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    hash       CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    PRIMARY KEY (seq),
    KEY ix_audit_ts (ts),
    KEY ix_audit_actor_ts (actor, ts),
    KEY ix_audit_action_ts (action, ts)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_log is append-only: UPDATE refused';

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_log is append-only: DELETE refused';

-- +goose Down
DROP TRIGGER audit_log_no_delete;
DROP TRIGGER audit_log_no_update;
DROP TABLE audit_log;
DROP TABLE sessions;
DROP TABLE users;
