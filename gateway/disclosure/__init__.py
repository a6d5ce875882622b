"""Every answer and message that carries a resident's data leaves
through here: the consent engine decides per recipient, the resource
is minimised to what it permits, and the disclosure is logged."""
