-- The partitions holding the history from before partitioning ("<table>_legacy") carried two
-- unique indexes on the same key. 20261203220000_partitioned_history built "<table>_legacy_partition_key"
-- for attaching, but a primary key's partition needs an index made for the constraint, so ATTACH
-- built "<table>_legacy_pkey" beside it. Every row written there (on a fresh database, its first
-- two days) paid for both: a second index entry per delivery, per recorded result and per attempt.
-- The one the primary key uses stays. Dropping the other only removes its files
-- (no semicolon in these comments: Prisma splits a migration at every one).
DROP INDEX IF EXISTS "Delivery_legacy_partition_key";
DROP INDEX IF EXISTS "Event_legacy_partition_key";
DROP INDEX IF EXISTS "DeliveryAttempt_legacy_partition_key";
