-- Controller: the mirror policy, one row per protocol (http, smtp, ...),
-- so that toggles made through the controller's API survive a restart.
-- Defaults come from the controller's configuration file; a row here
-- overrides the file's "enabled" for its protocol. Ports and IRS
-- assignment stay in the file.
--
-- Warrant-scoped mirroring (per-target flows whose cookie carries the
-- warrant's number) will get its own tables; this one stays per protocol.

-- +goose Up
CREATE TABLE mirror_policy (
    protocol    VARCHAR(32) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
    enabled     BOOLEAN NOT NULL,
    -- Who asked for the change (API client address), for the operator.
    updated_by  VARCHAR(128) NOT NULL DEFAULT '',
    updated_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (protocol)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE mirror_policy;
