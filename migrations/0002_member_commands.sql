ALTER TABLE `subscriptions` ADD `approve_url` text;--> statement-breakpoint
ALTER TABLE `subscriptions` ADD `carry_tier_key` text;--> statement-breakpoint
ALTER TABLE `subscriptions` ADD `carry_until` integer;