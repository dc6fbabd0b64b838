SELECT audit_chain(true)
