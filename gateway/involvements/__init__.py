"""Involvement: which organisations help a resident, and so may speak for them."""
