-- What the apps' role (DATABASE_URL) may do with the identity linker's tables; run by the owner
-- after every migrate, `:"app_role"` being that role (psql -v app_role=… -f reads it alike). Each
-- table is revoked and granted again in one transaction. See docs/decisions/011-database-roles.md.

-- Who reviewed or changed identity links: append-only and hash-chained (002).
REVOKE ALL ON identity_audit_log FROM :"app_role";
GRANT SELECT, INSERT ON identity_audit_log TO :"app_role";

-- The linker's state: rebuilt by replaying the store (TRUNCATE), changed as records arrive and
-- as people confirm or reject proposals.
REVOKE ALL ON identity_subjects, identity_subject_keys, identity_pairs, identity_proposals,
  identity_conflicts FROM :"app_role";
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON identity_subjects, identity_subject_keys,
  identity_pairs, identity_proposals, identity_conflicts TO :"app_role";

-- The linker's checkpoint: moved on with every batch, reset by a replay; never deleted.
REVOKE ALL ON identity_linker_checkpoints FROM :"app_role";
GRANT SELECT, INSERT, UPDATE ON identity_linker_checkpoints TO :"app_role";

-- Which keys the linker's rows were made by (004): read and moved on by the linker's re-keying.
REVOKE ALL ON identity_key_scheme FROM :"app_role";
GRANT SELECT, UPDATE ON identity_key_scheme TO :"app_role";
