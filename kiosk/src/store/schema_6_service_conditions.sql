-- Migration 6: who may use a service and the law it is provided under, from the
-- catalogue; shown before the declaration of an intake request. Filled when the catalogue
-- is next projected.
ALTER TABLE services ADD COLUMN conditions TEXT NOT NULL DEFAULT '';
ALTER TABLE services ADD COLUMN legal_basis TEXT NOT NULL DEFAULT '';
