-- Tasks on systems without an interface Annexa drives (badge systems, legacy applications):
-- queued with status 'manual', carried out by a person, confirmed with
-- `annexa provision done`. Workers never lease them.
ALTER TABLE provisioning_tasks ADD COLUMN manual BIGINT NOT NULL DEFAULT 0;
ALTER TABLE provisioning_tasks ADD COLUMN confirmed_by TEXT;
ALTER TABLE provisioning_tasks ADD COLUMN note TEXT;
