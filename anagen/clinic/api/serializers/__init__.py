"""Serializers per domain: ``<Model>Serializer`` reads a record; ``…Input`` is what an action
accepts (strict: an unknown field is refused)."""
