"""Awarding: one person or a whole roster, from the achievement to the files on disk.

``awards`` (``issue_single``, ``issue_roster``) is the front door; ``roster``
checks the rows, ``issuing`` (the ``Issuer``) builds, signs and stores through
``signing`` and the registry, ``outputs`` writes the files to hand out, and
``status_changes`` republishes status lists. Completing a pathway is an award
too (``pathways`` and its definition, rules and store), made in the same run.
"""
