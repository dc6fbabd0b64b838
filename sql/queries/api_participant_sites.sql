-- Each participant's study site (NULL: none): which participants a coordinator sees.
SELECT participant_id, site FROM participant
