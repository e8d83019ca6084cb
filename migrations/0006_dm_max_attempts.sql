-- DM jobs are declared with 8 attempts (src/jobs/definitions.ts); rows queued before the declaration stored the
-- default 10, which the handler used to lower at claim time. The stored value is now the only one.
UPDATE `jobs` SET `max_attempts` = 8 WHERE `kind` = 'dm' AND `status` IN ('queued', 'running') AND `max_attempts` = 10;
