-- Runs once, when the PostgreSQL volume is first created: the registry's own role and
-- database, next to the `temporal` role the image creates for Temporal itself.
-- Change the password here and in compose.yaml (AGENT_REGISTRY_DATABASE_URL) together.
CREATE ROLE registry LOGIN PASSWORD 'registry';
CREATE DATABASE registry OWNER registry;
