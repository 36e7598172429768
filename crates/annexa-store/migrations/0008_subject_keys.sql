-- Subject keys escape a '/' inside a part (`app/b%2Fc/d`), so that two subjects never share
-- a key (see annexa_core::key). The migration's code re-keys the stored findings whose
-- subjects it can tell apart by the records now held; ordinary keys do not change.
CREATE INDEX run_findings_by_finding ON run_findings (finding_id);
