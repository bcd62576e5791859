"""An association and its divisions: division instances that share one database, the
association's own profile and key, and what spans them (the learner record, the transcript,
association pathways, the CE report, the catalog). Reads the registry; awards only through
``issuer.awarding``.
"""
