CREATE TABLE `publisher_profile` (
	`id` integer PRIMARY KEY NOT NULL,
	`bio` text DEFAULT '' NOT NULL,
	`url` text,
	`icon_url` text,
	`version` integer DEFAULT 0 NOT NULL,
	`updated_by` text,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `sync_state` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `members` ADD `marketplace_version` integer DEFAULT 0 NOT NULL;