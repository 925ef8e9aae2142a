-- A claim now writes only leaseExpiresAt and attempts, which no index covers, so PostgreSQL
-- can update the row in place (HOT) when its page has room. New Delivery pages are filled to
-- half, leaving that room for the claim's new row version. Existing pages are not rewritten.
ALTER TABLE "Delivery" SET (fillfactor = 50);
