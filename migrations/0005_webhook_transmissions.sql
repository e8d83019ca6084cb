CREATE TABLE `webhook_transmissions` (
	`transmission_id` text PRIMARY KEY NOT NULL,
	`body_sha256` blob NOT NULL,
	`received_at` integer NOT NULL
) WITHOUT ROWID;
