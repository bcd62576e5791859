"""The issuer's web side: badge pages and certificates (``pages``, ``certificate``,
``badge_state``), the learner page (``learner_pages``) and the W3C VC API with its OAuth
clients (``vc_api``, ``vc_issuing``, ``clients``); what they all read from the app (``site``: its
issuer and clock). Blueprints only; ``app.py`` composes them.
"""
