"""The API's views per domain: read through site-scoped querysets, write through the services."""
