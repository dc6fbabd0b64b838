-- What a pull starts from: the account state and the data types not to request (their scope withheld or refused).
SELECT consent_state, withheld_data_types FROM google_health_account WHERE participant_id = %(participant_id)s
