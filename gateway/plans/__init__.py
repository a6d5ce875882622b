"""The household plan: one CarePlan per household, shared by the systems that help it."""
