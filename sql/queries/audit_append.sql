SELECT audit_append(%(actor)s, %(action)s, %(endpoint)s, %(participants)s, %(time_range)s, %(detail)s)
