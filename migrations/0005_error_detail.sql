-- dmilab schema v5: the error of a failed experiment in full, as the API's error object has it: besides the message
-- (experiments.error), the core's error code ('numerical_error', 'io_error', ...) and the spec field it names
-- ('inference[0].ridge'; NULL when none).
ALTER TABLE experiments ADD COLUMN error_code TEXT;
ALTER TABLE experiments ADD COLUMN error_field TEXT;
