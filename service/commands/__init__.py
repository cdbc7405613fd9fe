"""The ledger's commands as values: one declaration each (declarations.py), their fields'
types and bounds (fields.py)."""
