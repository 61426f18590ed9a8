-- refinery:noTransaction
CREATE INDEX CONCURRENTLY cars_brand ON cars (brand);
