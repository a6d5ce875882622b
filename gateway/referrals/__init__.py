"""Referrals: a GP's ServiceRequest and the Task that feeds its status back."""
