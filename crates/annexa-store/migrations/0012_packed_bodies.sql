-- Finding bodies compressed (zstd, see run.rs): a first audit stores a quarter of a million
-- of them, about 1.5 KB of repetitive JSON each, and writing them was most of its time. The
-- data step compresses the bodies stored before, then drops the column that held them.
ALTER TABLE finding_versions ADD COLUMN packed {{blob}};
