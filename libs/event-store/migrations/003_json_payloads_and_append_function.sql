-- Faster appends (libs/event-store/README.md, "How an append is written").
--
-- 1. `data` and `metadata` become `json`: the text as the adapter serialised it, checked to be
--    valid JSON on the way in but not decomposed into jsonb's binary form. Nothing queries
--    inside them (reads return them whole, and pg parses json and jsonb alike), and converting
--    every payload to jsonb was the largest single server-side cost of an append (measured:
--    about 40 % of the backend's CPU for a COPY into this table). Reads get cheaper too: json
--    is sent as stored. Idempotency compares payloads by value in the adapter, not in SQL.
--    On a large existing table this ALTER rewrites it under an exclusive lock: plan for it.
ALTER TABLE events ALTER COLUMN metadata DROP DEFAULT;
ALTER TABLE events
  ALTER COLUMN data TYPE json USING data::json,
  ALTER COLUMN metadata TYPE json USING metadata::json;
ALTER TABLE events ALTER COLUMN metadata SET DEFAULT '{}'::json;

-- 2. One round trip for an append of new events (the common case): take the append lock,
--    check that none of the event ids is stored, that no stream is tombstoned and that every
--    expectation holds, then insert with positions in input order, move the streams on,
--    write the checkpoints and notify. When any check fails it writes nothing and returns
--    NULL positions: the adapter then runs the full path (lookup, plan, write), which
--    handles re-appends and raises the precise error. Called outside an explicit
--    transaction, the lock is held until the statement's own commit.
--    It runs each statement on a fresh snapshot (plpgsql, VOLATILE), so what it reads after
--    the lock includes everything committed by the previous holder.
--
--    p_expected per stream: a revision >= 0, -1 no stream, -2 any, -3 stream exists.
--    p_row_streams per row: the 1-based index of its stream in p_stream_ids; rows of a stream
--    are in input order. Stream ids and event ids must each be distinct (the adapter checks).
CREATE FUNCTION event_store_append_fresh(
  p_stream_ids text[],
  p_expected bigint[],
  p_row_streams int[],
  p_event_ids uuid[],
  p_types text[],
  p_data text[],
  p_metadata text[],
  p_checkpoint_names text[],
  p_checkpoint_values text[],
  p_notify_channel text,
  OUT positions bigint[],
  OUT last_revisions bigint[]
)
LANGUAGE plpgsql VOLATILE
-- Every statement here is an index lookup by key. Its plans are cached for the session, and a
-- plan made while the table looked small (a fresh store, stale statistics) would otherwise
-- scan the whole of events on every later call.
SET enable_seqscan = off
AS $$
DECLARE
  v_current bigint[];
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('throughline.event-store.append'));

  IF EXISTS (SELECT 1 FROM events WHERE event_id = ANY (p_event_ids)) THEN
    RETURN;
  END IF;
  IF EXISTS (SELECT 1 FROM stream_tombstones WHERE stream_id = ANY (p_stream_ids)) THEN
    RETURN;
  END IF;

  SELECT array_agg(coalesce(s.revision, -1) ORDER BY ids.ord) INTO v_current
  FROM unnest(p_stream_ids) WITH ORDINALITY AS ids(stream_id, ord)
  LEFT JOIN streams s ON s.stream_id = ids.stream_id;

  IF EXISTS (
    SELECT 1 FROM unnest(v_current, p_expected) AS x(cur, expected)
    WHERE NOT (expected = -2
               OR (expected = -1 AND cur = -1)
               OR (expected = -3 AND cur >= 0)
               OR (expected >= 0 AND expected = cur))
  ) THEN
    RETURN;
  END IF;

  -- Drawn under the lock, sorted, handed out in input order.
  SELECT array_agg(p ORDER BY p) INTO positions
  FROM (SELECT nextval('events_position_seq') AS p
        FROM generate_series(1, cardinality(p_event_ids))) AS drawn;

  INSERT INTO events (position, stream_id, revision, event_id, type, data, metadata)
  SELECT positions[r.ord], p_stream_ids[r.s],
         v_current[r.s] + row_number() OVER (PARTITION BY r.s ORDER BY r.ord),
         r.e, r.t, r.d::json, r.m::json
  FROM unnest(p_row_streams, p_event_ids, p_types, p_data, p_metadata)
       WITH ORDINALITY AS r(s, e, t, d, m, ord);

  SELECT array_agg(v_current[i] + coalesce(counted.n, 0) ORDER BY i) INTO last_revisions
  FROM generate_subscripts(p_stream_ids, 1) AS i
  LEFT JOIN (SELECT s, count(*) AS n FROM unnest(p_row_streams) AS rs(s) GROUP BY s) AS counted
    ON counted.s = i;

  INSERT INTO streams (stream_id, revision)
  SELECT * FROM unnest(p_stream_ids, last_revisions)
  ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision;

  IF cardinality(p_checkpoint_names) > 0 THEN
    INSERT INTO checkpoints (name, value)
    SELECT * FROM unnest(p_checkpoint_names, p_checkpoint_values)
    ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = now();
  END IF;

  -- Delivered at commit, never for a rolled-back append.
  PERFORM pg_notify(p_notify_channel, positions[cardinality(positions)]::text);
END;
$$;

-- 3. The first round trip of the full path (re-appends, failed expectations, big batches):
--    take the append lock, then return what is stored under the given event ids, each
--    stream's last revision and tombstone (streams that have neither are left out), and
--    p_draw positions drawn under the lock (the adapter draws one per event it was given;
--    positions left over by re-appended events are never used, as a rolled-back append's are not).
CREATE FUNCTION event_store_lock_and_lookup(p_event_ids uuid[], p_stream_ids text[], p_draw int)
RETURNS TABLE (
  kind text, stream_id text, event_id uuid, event_position bigint, revision bigint,
  type text, data json, metadata json, tombstoned boolean
)
LANGUAGE plpgsql VOLATILE
SET enable_seqscan = off -- as above
AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('throughline.event-store.append'));
  RETURN QUERY
    SELECT 'event', e.stream_id, e.event_id, e.position, e.revision, e.type, e.data, e.metadata, false
    FROM events e WHERE e.event_id = ANY (p_event_ids);
  RETURN QUERY
    SELECT 'stream', ids.stream_id, NULL::uuid, NULL::bigint, s.revision, NULL::text, NULL::json, NULL::json,
           t.stream_id IS NOT NULL
    FROM unnest(p_stream_ids) AS ids(stream_id)
    LEFT JOIN streams s ON s.stream_id = ids.stream_id
    LEFT JOIN stream_tombstones t ON t.stream_id = ids.stream_id
    WHERE s.stream_id IS NOT NULL OR t.stream_id IS NOT NULL;
  -- One row, the positions as the text of a bigint array ('{7,8,9}', ascending) in `type`.
  RETURN QUERY
    SELECT 'positions', NULL::text, NULL::uuid, NULL::bigint, NULL::bigint,
           coalesce(array_agg(drawn.p ORDER BY drawn.p), '{}')::text, NULL::json, NULL::json, false
    FROM (SELECT nextval('events_position_seq') AS p FROM generate_series(1, p_draw)) AS drawn;
END;
$$;
