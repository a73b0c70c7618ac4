-- The municipalities (CBS codes, comma separated) an organisation is onboarded for: a municipality's
-- professionals may ask for these municipalities' factsheets.
ALTER TABLE organisations ADD COLUMN municipalities TEXT NOT NULL DEFAULT '';
