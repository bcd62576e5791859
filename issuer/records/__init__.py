"""What the records say over time: renewals and their notices, transcripts, learner
links, reports and listings. Reads the registry; awards only through ``issuer.awarding``.
"""
