-- Where the same access sits in each campaign, for deciding it alike in every open one: a
-- table keyed by campaign first instead of an index over every item. A launch writes its
-- campaign's rows at once, sorted, at the end of this table (see campaign.rs), where an
-- index over every campaign's items took them one by one at random places: building it
-- was a third of a first launch, and maintaining it made each later launch twice as slow.
CREATE TABLE campaign_access (
    campaign_id BIGINT NOT NULL,
    access_key BIGINT NOT NULL,
    item_id BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, access_key, item_id)
){{without_rowid}};
INSERT INTO campaign_access (campaign_id, access_key, item_id) SELECT campaign_id, access_key, id FROM campaign_items;
DROP INDEX campaign_items_by_access;
