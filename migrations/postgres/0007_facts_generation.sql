-- The facts generation: a counter that every change to what a release is decided on moves (cases, members,
-- consents, meetings with their agenda and attendees, requests, addressees and items), by trigger, so no code path
-- (the API, the command line, another gateway on the same database) can change a fact without moving it. A gateway
-- may decide a read on facts it cached at generation g; the log commits the read's records only if the generation is
-- still g when it locks the chain head, so a cached decision never outlives the facts it was made on.
CREATE TABLE facts_generation (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO facts_generation (id, generation) VALUES (1, 0);

CREATE FUNCTION facts_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER facts_cases AFTER INSERT OR UPDATE OR DELETE ON cases
    FOR EACH STATEMENT EXECUTE FUNCTION facts_generation_bump();

CREATE TRIGGER facts_case_members AFTER INSERT OR UPDATE OR DELETE ON case_members
    FOR EACH STATEMENT EXECUTE FUNCTION facts_generation_bump();

CREATE TRIGGER facts_consents AFTER INSERT OR UPDATE OR DELETE ON consents
    FOR EACH STATEMENT EXECUTE FUNCTION facts_generation_bump();

CREATE TRIGGER facts_meetings AFTER INSERT OR UPDATE OR DELETE ON meetings
    FOR EACH STATEMENT EXECUTE FUNCTION facts_generation_bump();

CREATE TRIGGER facts_meeting_agenda AFTER INSERT OR UPDATE OR DELETE ON meeting_agenda
    FOR EACH STATEMENT EXECUTE FUNCTION facts_generation_bump();

CREATE TRIGGER facts_meeting_attendees AFTER INSERT OR UPDATE OR DELETE ON meeting_attendees
    FOR EACH STATEMENT EXECUTE FUNCTION facts_generation_bump();

CREATE TRIGGER facts_requests AFTER INSERT OR UPDATE OR DELETE ON requests
    FOR EACH STATEMENT EXECUTE FUNCTION facts_generation_bump();

CREATE TRIGGER facts_request_addressees AFTER INSERT OR UPDATE OR DELETE ON request_addressees
    FOR EACH STATEMENT EXECUTE FUNCTION facts_generation_bump();

CREATE TRIGGER facts_items AFTER INSERT OR UPDATE OR DELETE ON items
    FOR EACH STATEMENT EXECUTE FUNCTION facts_generation_bump();
