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

CREATE TRIGGER facts_cases_insert AFTER INSERT ON cases
BEGIN UPDATE facts_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER facts_cases_update AFTER UPDATE ON cases
BEGIN UPDATE facts_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER facts_cases_delete AFTER DELETE ON cases
BEGIN UPDATE facts_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER facts_case_members_insert AFTER INSERT ON case_members
BEGIN UPDATE facts_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER facts_case_members_update AFTER UPDATE ON case_members
BEGIN UPDATE facts_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER facts_case_members_delete AFTER DELETE ON case_members
BEGIN UPDATE facts_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER facts_consents_insert AFTER INSERT ON consents
BEGIN UPDATE facts_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER facts_consents_update AFTER UPDATE ON consents
BEGIN UPDATE facts_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER facts_consents_delete AFTER DELETE ON consents
BEGIN UPDATE facts_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER facts_meetings_insert AFTER INSERT ON meetings
BEGIN UPDATE facts_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER facts_meetings_update AFTER UPDATE ON meetings
BEGIN UPDATE facts_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER facts_meetings_delete AFTER DELETE ON meetings
BEGIN UPDATE facts_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER facts_meeting_agenda_insert AFTER INSERT ON meeting_agenda
BEGIN UPDATE facts_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER facts_meeting_agenda_update AFTER UPDATE ON meeting_agenda
BEGIN UPDATE facts_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER facts_meeting_agenda_delete AFTER DELETE ON meeting_agenda
BEGIN UPDATE facts_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER facts_meeting_attendees_insert AFTER INSERT ON meeting_attendees
BEGIN UPDATE facts_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER facts_meeting_attendees_update AFTER UPDATE ON meeting_attendees
BEGIN UPDATE facts_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER facts_meeting_attendees_delete AFTER DELETE ON meeting_attendees
BEGIN UPDATE facts_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER facts_requests_insert AFTER INSERT ON requests
BEGIN UPDATE facts_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER facts_requests_update AFTER UPDATE ON requests
BEGIN UPDATE facts_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER facts_requests_delete AFTER DELETE ON requests
BEGIN UPDATE facts_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER facts_request_addressees_insert AFTER INSERT ON request_addressees
BEGIN UPDATE facts_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER facts_request_addressees_update AFTER UPDATE ON request_addressees
BEGIN UPDATE facts_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER facts_request_addressees_delete AFTER DELETE ON request_addressees
BEGIN UPDATE facts_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER facts_items_insert AFTER INSERT ON items
BEGIN UPDATE facts_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER facts_items_update AFTER UPDATE ON items
BEGIN UPDATE facts_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER facts_items_delete AFTER DELETE ON items
BEGIN UPDATE facts_generation SET generation = generation + 1 WHERE id = 1; END;
