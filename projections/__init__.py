"""Read models built from the ledger's events: pure rules over facts, and their tables."""
