CREATE TABLE `serials` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`member_id` text NOT NULL,
	`script_key` text NOT NULL,
	`lookup_hash` blob NOT NULL,
	`sealed` blob NOT NULL,
	`status` text NOT NULL,
	`issued_at` integer NOT NULL,
	`suspended_at` integer,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`discord_user_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `serials_member_script_idx` ON `serials` (`member_id`,`script_key`);--> statement-breakpoint
CREATE UNIQUE INDEX `serials_lookup_idx` ON `serials` (`lookup_hash`);