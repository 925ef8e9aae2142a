-- Delivery history partitioned by day (issue 27): Event and Delivery by "createdAt", DeliveryAttempt
-- by "startedAt", so that retention drops whole days instead of deleting rows.
--
-- What Prisma's schema cannot say, and this migration does (scripts/migrations.test.ts knows each):
-- * A partitioned table's primary key must hold its partition key: (id, "createdAt") and
--   ("deliveryId", number, "startedAt"). Ids stay unique by construction (random 96-bit ids).
-- * No foreign key can point at a partitioned table by id alone: Delivery_eventId_fkey and
--   DeliveryAttempt_deliveryId_fkey become statement triggers that delete what the constraints
--   cascaded to. Dropping a day's partitions skips them, as retention wants.
--
-- Existing rows are not copied: each old table is attached whole as the partition "<table>_legacy"
-- covering everything before tomorrow (UTC). Its primary key becomes (id, key), a new
-- unique index (an index build), and attaching scans it once to check the range. Retention deletes its rows row by row until the whole
-- partition is older than the window, then drops it. New days get partitions of their own,
-- made ahead by mon1tor_history_partitions(), which housekeeping calls too.
-- PL/pgSQL bodies are E'' strings with each semicolon written \073: Prisma's migration runner
-- splits this file at every semicolon, even inside quoted text.

ALTER TABLE "DeliveryAttempt" DROP CONSTRAINT "DeliveryAttempt_deliveryId_fkey";
ALTER TABLE "Delivery" DROP CONSTRAINT "Delivery_eventId_fkey";

-- Event
ALTER TABLE "Event" RENAME TO "Event_legacy";
ALTER TABLE "Event_legacy" RENAME CONSTRAINT "Event_pkey" TO "Event_legacy_pkey";
ALTER TABLE "Event_legacy" RENAME CONSTRAINT "Event_teamId_fkey" TO "Event_legacy_teamId_fkey";
ALTER TABLE "Event_legacy" RENAME CONSTRAINT "Event_alertId_fkey" TO "Event_legacy_alertId_fkey";
ALTER INDEX "Event_teamId_createdAt_idx" RENAME TO "Event_legacy_teamId_createdAt_idx";
ALTER INDEX "Event_alertId_idx" RENAME TO "Event_legacy_alertId_idx";
CREATE TABLE "Event" (LIKE "Event_legacy" INCLUDING DEFAULTS) PARTITION BY RANGE ("createdAt");
ALTER TABLE "Event" ADD CONSTRAINT "Event_pkey" PRIMARY KEY (id, "createdAt");
ALTER TABLE "Event" ADD CONSTRAINT "Event_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "Event" ADD CONSTRAINT "Event_alertId_fkey" FOREIGN KEY ("alertId") REFERENCES "Alert"("id") ON DELETE CASCADE ON UPDATE CASCADE;
CREATE INDEX "Event_teamId_createdAt_idx" ON "Event" ("teamId", "createdAt");
CREATE INDEX "Event_alertId_idx" ON "Event" ("alertId");
CREATE UNIQUE INDEX "Event_legacy_partition_key" ON "Event_legacy" (id, "createdAt");
ALTER TABLE "Event_legacy" DROP CONSTRAINT "Event_legacy_pkey";
ALTER TABLE "Event" ATTACH PARTITION "Event_legacy" FOR VALUES FROM (MINVALUE) TO (date_trunc('day', now() AT TIME ZONE 'UTC') + interval '1 day');

-- Delivery
ALTER TABLE "Delivery" RENAME TO "Delivery_legacy";
ALTER TABLE "Delivery_legacy" RENAME CONSTRAINT "Delivery_pkey" TO "Delivery_legacy_pkey";
ALTER TABLE "Delivery_legacy" RENAME CONSTRAINT "Delivery_endpointId_fkey" TO "Delivery_legacy_endpointId_fkey";
ALTER INDEX "Delivery_endpointId_createdAt_idx" RENAME TO "Delivery_legacy_endpointId_createdAt_idx";
ALTER INDEX "Delivery_eventId_idx" RENAME TO "Delivery_legacy_eventId_idx";
ALTER INDEX "Delivery_unfinished_alert_idx" RENAME TO "Delivery_legacy_unfinished_alert_idx";
ALTER INDEX "Delivery_fresh_idx" RENAME TO "Delivery_legacy_fresh_idx";
ALTER INDEX "Delivery_retry_idx" RENAME TO "Delivery_legacy_retry_idx";
CREATE TABLE "Delivery" (LIKE "Delivery_legacy" INCLUDING DEFAULTS) PARTITION BY RANGE ("createdAt");
ALTER TABLE "Delivery" ADD CONSTRAINT "Delivery_pkey" PRIMARY KEY (id, "createdAt");
ALTER TABLE "Delivery" ADD CONSTRAINT "Delivery_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "WebhookEndpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;
CREATE INDEX "Delivery_endpointId_createdAt_idx" ON "Delivery" ("endpointId", "createdAt");
CREATE INDEX "Delivery_eventId_idx" ON "Delivery" ("eventId");
CREATE INDEX "Delivery_unfinished_alert_idx" ON "Delivery" ("endpointId", "alertId", sequence) WHERE "nextAttemptAt" IS NOT NULL AND "alertId" IS NOT NULL;
CREATE INDEX "Delivery_fresh_idx" ON "Delivery" ("endpointId", "nextAttemptAt") WHERE status = 'pending' AND "nextAttemptAt" < '9999-12-31 00:00:00';
CREATE INDEX "Delivery_retry_idx" ON "Delivery" ("nextAttemptAt") WHERE status <> 'pending' AND "nextAttemptAt" IS NOT NULL;
-- The first day that holds a queued delivery: retention keeps it and every later day
-- (lib/webhooks/delivery/retention.ts). Its predicate holds for every queued row ("maxAttempts"
-- is never negative) but is one no other query implies: a partial index that every queued-row
-- scan could read whole looked free to the planner when a partition's statistics were taken
-- before its storm, and the claim then read all queued rows in each of its scans (65 ms a claim
-- at 400 alerts/s, where it takes 3).
CREATE INDEX "Delivery_queued_idx" ON "Delivery" (("createdAt"::date)) WHERE "nextAttemptAt" IS NOT NULL AND "maxAttempts" >= 0;
CREATE UNIQUE INDEX "Delivery_legacy_partition_key" ON "Delivery_legacy" (id, "createdAt");
ALTER TABLE "Delivery_legacy" DROP CONSTRAINT "Delivery_legacy_pkey";
ALTER TABLE "Delivery" ATTACH PARTITION "Delivery_legacy" FOR VALUES FROM (MINVALUE) TO (date_trunc('day', now() AT TIME ZONE 'UTC') + interval '1 day');

-- DeliveryAttempt
ALTER TABLE "DeliveryAttempt" RENAME TO "DeliveryAttempt_legacy";
ALTER TABLE "DeliveryAttempt_legacy" RENAME CONSTRAINT "DeliveryAttempt_pkey" TO "DeliveryAttempt_legacy_pkey";
CREATE TABLE "DeliveryAttempt" (LIKE "DeliveryAttempt_legacy" INCLUDING DEFAULTS) PARTITION BY RANGE ("startedAt");
ALTER TABLE "DeliveryAttempt" ADD CONSTRAINT "DeliveryAttempt_pkey" PRIMARY KEY ("deliveryId", number, "startedAt");
CREATE UNIQUE INDEX "DeliveryAttempt_legacy_partition_key" ON "DeliveryAttempt_legacy" ("deliveryId", number, "startedAt");
ALTER TABLE "DeliveryAttempt_legacy" DROP CONSTRAINT "DeliveryAttempt_legacy_pkey";
ALTER TABLE "DeliveryAttempt" ATTACH PARTITION "DeliveryAttempt_legacy" FOR VALUES FROM (MINVALUE) TO (date_trunc('day', now() AT TIME ZONE 'UTC') + interval '1 day');

-- The cascades the two foreign keys did.
CREATE FUNCTION mon1tor_event_cascade() RETURNS trigger LANGUAGE plpgsql AS E'BEGIN\n  DELETE FROM "Delivery" d USING gone WHERE d."eventId" = gone.id\073\n  RETURN NULL\073\nEND';
CREATE TRIGGER "Event_cascade" AFTER DELETE ON "Event" REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION mon1tor_event_cascade();
CREATE FUNCTION mon1tor_delivery_cascade() RETURNS trigger LANGUAGE plpgsql AS E'BEGIN\n  DELETE FROM "DeliveryAttempt" a USING gone WHERE a."deliveryId" = gone.id\073\n  RETURN NULL\073\nEND';
CREATE TRIGGER "Delivery_cascade" AFTER DELETE ON "Delivery" REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION mon1tor_delivery_cascade();

-- Day partitions from yesterday (UTC) to days_ahead after `around`, for each history table,
-- skipping days a partition already covers. Safe to call from several processes at once.
CREATE FUNCTION mon1tor_history_partitions(around timestamp, days_ahead integer) RETURNS integer LANGUAGE plpgsql AS E'DECLARE\n  spec record\073\n  day date\073\n  part text\073\n  made integer := 0\073\nBEGIN\n  PERFORM pg_advisory_xact_lock(hashtext(\'mon1tor history partitions\'))\073\n  PERFORM set_config(\'lock_timeout\', \'200ms\', true)\073\n  FOR spec IN SELECT * FROM (VALUES (\'Event\', \'\'), (\'Delivery\', \' WITH (fillfactor = 50)\'), (\'DeliveryAttempt\', \'\')) AS s(tbl, options) LOOP\n    FOR day IN SELECT generate_series(date_trunc(\'day\', around - interval \'1 day\'), date_trunc(\'day\', around + make_interval(days => days_ahead)), interval \'1 day\')::date LOOP\n      part := spec.tbl || \'_p\' || to_char(day, \'YYYYMMDD\')\073\n      CONTINUE WHEN to_regclass(format(\'%I\', part)) IS NOT NULL\073\n      CONTINUE WHEN EXISTS (\n        SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid\n        WHERE i.inhparent = format(\'%I\', spec.tbl)::regclass\n          AND substring(pg_get_expr(c.relpartbound, c.oid) FROM \'TO \\(\'\'([^\'\']+)\'\'\\)\')::timestamp > day\n          AND COALESCE(substring(pg_get_expr(c.relpartbound, c.oid) FROM \'FROM \\(\'\'([^\'\']+)\'\'\\)\')::timestamp, \'-infinity\') <= day)\073\n      EXECUTE format(\'CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS)%s\', part, spec.tbl, spec.options)\073\n      BEGIN\n        EXECUTE format(\'ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)\', spec.tbl, part, day, day + 1)\073\n        made := made + 1\073\n      EXCEPTION WHEN invalid_object_definition OR lock_not_available THEN\n        EXECUTE format(\'DROP TABLE %I\', part)\073\n      END\073\n    END LOOP\073\n  END LOOP\073\n  RETURN made\073\nEND';
SELECT mon1tor_history_partitions((now() AT TIME ZONE 'UTC')::timestamp, 4);
