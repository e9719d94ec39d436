-- Access records name the verified principal and what the policy decided by. user_id is the
-- token's subject; user_role the role the policy granted the access under; `details` holds the
-- rest as one document: { principal: {kind, name, organisation, roles, clientId},
-- policyVersion, agreements: ["id@version", …], breakGlass: {id, reason, expiresAt} }.
-- Every read and command is recorded here, not only lookups and timelines.
ALTER TABLE access_log ADD COLUMN details jsonb;
ALTER TABLE access_log DROP CONSTRAINT IF EXISTS access_log_action_check;
ALTER TABLE access_log ADD CONSTRAINT access_log_action_check
  CHECK (action ~ '^[a-z][a-z0-9-]{1,62}$');
CREATE INDEX access_log_user ON access_log (user_id, accessed_at);
CREATE INDEX access_log_time ON access_log (accessed_at);

-- The chain's canonical form gains `details` only when a row has it, so rows chained before keep
-- their hashes. ACCESS_LOG_CHAIN in libs/timeline/audit-chain.ts says the same.
CREATE OR REPLACE FUNCTION access_log_row_hash(prev bytea, r access_log) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
  SELECT sha256(prev || convert_to((jsonb_build_array(
    r.seq, r.id, extract(epoch FROM r.accessed_at), r.user_id, r.user_role, r.purpose, r.action,
    r.requested_child_key, r.child_key, r.returned_entries, r.withheld, r.outcome
  ) || CASE WHEN r.details IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(r.details) END)::text, 'UTF8'))
$$;
