"""A JSON serializer for Django's RedisCache (`OPTIONS["serializer"]`), for `--serializer json`:
plain JSON in Redis instead of the default pickle (Decimal and datetime as DjangoJSONEncoder
writes them)."""

import json

from django.core.serializers.json import DjangoJSONEncoder


class JSONSerializer:
    """dumps/loads as RedisCacheClient calls them."""

    def dumps(self, obj):
        return json.dumps(obj, cls=DjangoJSONEncoder, separators=(",", ":")).encode()

    def loads(self, data):
        return json.loads(data)
