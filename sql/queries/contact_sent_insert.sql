INSERT INTO contact_sent (participant_id, template, user_name, overridden)
VALUES (%(participant_id)s, %(template)s, %(user_name)s, %(overridden)s)
