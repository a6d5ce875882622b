"""FHIR R4B REST API under ``/fhir``: one module per resource."""
