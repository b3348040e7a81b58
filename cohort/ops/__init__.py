"""Operations that keep the system accountable: the append-only audit log, retention and purge."""
