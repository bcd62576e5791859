"""The instance folder: where it is and creating it (``folder``), ``badgesmith.toml``
(``settings``, each value checked by ``checks``, the ``[brand]`` table in ``brand``),
the ids and URLs it publishes (``urls``) and writing files safely (``files``).
"""
