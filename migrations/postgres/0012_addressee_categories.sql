-- A request may ask each addressee for its own categories (a JSON list, a subset of the request's); NULL asks
-- the addressee for all of the request's categories.
ALTER TABLE request_addressees ADD COLUMN categories TEXT;
