ALTER TABLE `payments` ADD `plan_id` text;--> statement-breakpoint
ALTER TABLE `payments` ADD `tier_key` text;--> statement-breakpoint
ALTER TABLE `payments` ADD `interval_unit` text;--> statement-breakpoint
ALTER TABLE `payments` ADD `interval_count` integer;--> statement-breakpoint
ALTER TABLE `payments` ADD `covers_until` integer;--> statement-breakpoint
ALTER TABLE `subscriptions` ADD `paid_plan_id` text;--> statement-breakpoint
ALTER TABLE `subscriptions` ADD `paid_tier_key` text;--> statement-breakpoint
ALTER TABLE `subscriptions` ADD `paid_price` text;--> statement-breakpoint
ALTER TABLE `subscriptions` ADD `paid_currency` text;--> statement-breakpoint
ALTER TABLE `subscriptions` ADD `paid_until` integer;--> statement-breakpoint
ALTER TABLE `subscriptions` ADD `upgrade_from` text;--> statement-breakpoint
ALTER TABLE `subscriptions` ADD `upgrade_fee` text;--> statement-breakpoint
ALTER TABLE `subscriptions` ADD `upgrade_currency` text;--> statement-breakpoint
ALTER TABLE `subscriptions` ADD `upgrade_until` integer;--> statement-breakpoint
ALTER TABLE `subscriptions` DROP COLUMN `carry_tier_key`;--> statement-breakpoint
ALTER TABLE `subscriptions` DROP COLUMN `carry_until`;--> statement-breakpoint
-- Subscriptions stored before payments were tied to plans keep the tier they were given: their plan counts as paid
-- until the paid-through already computed (the next payment is then counted against its plan's price).
UPDATE `subscriptions` SET `paid_plan_id` = `plan_id`, `paid_tier_key` = `tier_key`, `paid_until` = `paid_through`
  WHERE `state` IN ('active', 'past_due', 'cancelled', 'suspended', 'expired', 'revoked') AND `paid_plan_id` IS NULL;
