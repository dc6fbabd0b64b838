SELECT email_enc, email_hint, do_not_contact FROM contact_address(%(participant_id)s)
