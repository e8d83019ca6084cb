CREATE TABLE `audit_entries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`kind` text NOT NULL,
	`severity` text DEFAULT 'info' NOT NULL,
	`member_id` text,
	`subscription_id` text,
	`event_id` text,
	`message` text NOT NULL,
	`data` text,
	`dedupe_key` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `audit_entries_dedupe_key_unique` ON `audit_entries` (`dedupe_key`);--> statement-breakpoint
CREATE INDEX `audit_member_idx` ON `audit_entries` (`member_id`);--> statement-breakpoint
CREATE INDEX `audit_at_idx` ON `audit_entries` (`at`);--> statement-breakpoint
CREATE TABLE `grants` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`member_id` text NOT NULL,
	`tier_key` text NOT NULL,
	`granted_by` text NOT NULL,
	`reason` text,
	`starts_at` integer NOT NULL,
	`expires_at` integer,
	`revoked_at` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`discord_user_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `grants_member_idx` ON `grants` (`member_id`);--> statement-breakpoint
CREATE TABLE `jobs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`payload` text NOT NULL,
	`dedupe_key` text,
	`status` text DEFAULT 'queued' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`max_attempts` integer NOT NULL,
	`run_at` integer NOT NULL,
	`locked_until` integer,
	`locked_by` text,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `jobs_due_idx` ON `jobs` (`status`,`run_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `jobs_queued_dedupe_idx` ON `jobs` (`kind`,`dedupe_key`) WHERE status = 'queued' AND dedupe_key IS NOT NULL;--> statement-breakpoint
CREATE TABLE `members` (
	`discord_user_id` text PRIMARY KEY NOT NULL,
	`entitled_tier` text,
	`entitled_until` integer,
	`entitled_source` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `payments` (
	`id` text PRIMARY KEY NOT NULL,
	`subscription_id` text NOT NULL,
	`member_id` text,
	`amount` text NOT NULL,
	`currency` text NOT NULL,
	`state` text NOT NULL,
	`paid_at` integer NOT NULL,
	`refunded_at` integer,
	`event_id` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `payments_subscription_idx` ON `payments` (`subscription_id`);--> statement-breakpoint
CREATE TABLE `subscriptions` (
	`id` text PRIMARY KEY NOT NULL,
	`member_id` text,
	`plan_id` text NOT NULL,
	`tier_key` text,
	`state` text NOT NULL,
	`paypal_status` text NOT NULL,
	`paypal_updated_at` integer,
	`custom_id` text,
	`next_billing_at` integer,
	`last_payment_at` integer,
	`interval_unit` text,
	`interval_count` integer,
	`paid_through` integer,
	`grace_until` integer,
	`access_until` integer,
	`failed_payments_count` integer DEFAULT 0 NOT NULL,
	`last_failed_payment_at` integer,
	`revoked_at` integer,
	`revoked_reason` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`discord_user_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `subscriptions_member_idx` ON `subscriptions` (`member_id`);--> statement-breakpoint
CREATE TABLE `webhook_events` (
	`id` text PRIMARY KEY NOT NULL,
	`event_type` text NOT NULL,
	`resource_id` text,
	`transmission_id` text NOT NULL,
	`raw_body` text NOT NULL,
	`received_at` integer NOT NULL,
	`processed_at` integer,
	`outcome` text DEFAULT 'pending' NOT NULL,
	`detail` text
);
--> statement-breakpoint
CREATE INDEX `webhook_events_received_idx` ON `webhook_events` (`received_at`);