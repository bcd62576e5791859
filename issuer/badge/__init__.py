"""One badge as plain values: the achievement it certifies, the credential, the recipient's
identity, its status entries, the signature, the baked image, the badge art and the QR code.

Pure: nothing here opens the instance, the database or a file of its own, so
``build_credential`` → ``sign_credential`` → ``bake_png`` work without an
instance (the README's Python example). Everything above builds on it.
"""
