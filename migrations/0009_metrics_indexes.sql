CREATE INDEX `jobs_kind_idx` ON `jobs` (`status`,`kind`,`run_at`);--> statement-breakpoint
CREATE INDEX `members_entitled_tier_idx` ON `members` (`entitled_tier`);