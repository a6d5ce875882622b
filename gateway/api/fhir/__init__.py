"""The FHIR REST API: one module per resource type."""
