"""The processing log as privacy officers and residents read it: search,
export and a resident's access report."""
