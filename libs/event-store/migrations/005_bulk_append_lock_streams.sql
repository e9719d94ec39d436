-- The bulk append (libs/event-store/README.md, "How an append is written"): calls of more than
-- FRESH_MAX_EVENTS events write their rows with one COPY whose positions come from the column's
-- DEFAULT (nextval, drawn row by row in input order while the append lock is held), and look up
-- only their streams first, not their event ids: the unique index on event_id refuses an id
-- already stored, and the adapter then takes the full path (lookup, plan), which lists
-- duplicates and refuses conflicts as before. No table changes.
--
-- event_store_lock_streams: take the append lock, then per given stream its last revision
-- (-1 for none, in input order), whether any of them is tombstoned, and the sequence's last
-- value as it stands under the lock (0 if never drawn). The rows the COPY draws are then
-- last_position + 1, + 2, ... unless something drew without the lock meanwhile, which the
-- adapter detects (currval after the COPY) and answers by reading the positions back.
CREATE FUNCTION event_store_lock_streams(
  p_stream_ids text[],
  OUT revisions bigint[],
  OUT tombstoned boolean,
  OUT last_position bigint
)
LANGUAGE plpgsql VOLATILE
SET enable_seqscan = off -- every statement is an index lookup by key (see 003)
AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('throughline.event-store.append'));
  SELECT coalesce(array_agg(coalesce(s.revision, -1) ORDER BY ids.ord), '{}')
    INTO revisions
  FROM unnest(p_stream_ids) WITH ORDINALITY AS ids(stream_id, ord)
  LEFT JOIN streams s ON s.stream_id = ids.stream_id;
  tombstoned := EXISTS (SELECT 1 FROM stream_tombstones t WHERE t.stream_id = ANY (p_stream_ids));
  last_position := coalesce(pg_sequence_last_value('events_position_seq'), 0);
END;
$$;
