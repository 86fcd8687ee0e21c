-- Module messaging: the agents of each team (the third field of a service
-- in the `services` setting). An agent sees and acts on the threads of the
-- services whose team lists them; an agent with messaging.supervise sees
-- all. Rows are kept by the back office's administrators (SQL or seed).
CREATE TABLE IF NOT EXISTS messaging_agent_teams (
    agent_id BIGINT NOT NULL,
    team VARCHAR(64) NOT NULL,
    PRIMARY KEY (agent_id, team),
    KEY messaging_agent_teams_team (team),
    CONSTRAINT messaging_agent_teams_agent_fk FOREIGN KEY (agent_id) REFERENCES agents (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
