-- The data types a pull must not request for the participant (their scope withheld or refused).
SELECT withheld_data_types FROM google_health_account WHERE participant_id = %(participant_id)s
