"""The shipped JSON Schemas as generated Python checks (``schemas/vendor.py --compile``).

``credential.check(document)`` / ``profile.check(document)`` return quietly
or raise ``fastjsonschema.JsonSchemaValueException``. Read them through
``schemas.validate``; the test suite keeps them equal to what the generator
makes from ``schemas/json/`` today.
"""
