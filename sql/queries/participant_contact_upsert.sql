INSERT INTO participant_contact (participant_id, email_enc, email_hint, do_not_contact)
VALUES (%(participant_id)s, %(email_enc)s, COALESCE(%(email_hint)s, ''), COALESCE(%(do_not_contact)s, false))
ON CONFLICT (participant_id) DO UPDATE
SET email_enc = COALESCE(EXCLUDED.email_enc, participant_contact.email_enc),
    email_hint = COALESCE(%(email_hint)s, participant_contact.email_hint),
    do_not_contact = COALESCE(%(do_not_contact)s, participant_contact.do_not_contact),
    updated_at = now()
