-- Reminder jobs queued for an appointment, cancelled when it is moved or
-- cancelled (the job also checks the appointment before sending).
CREATE TABLE appt_reminder_jobs (
    appointment_id BIGINT NOT NULL,
    job_id BIGINT NOT NULL,
    PRIMARY KEY (appointment_id, job_id),
    CONSTRAINT fk_appt_reminder_jobs_appt FOREIGN KEY (appointment_id)
        REFERENCES appt_appointments (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
