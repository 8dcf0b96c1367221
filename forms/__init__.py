"""Forms: field types, form definitions, validation and the records service."""
