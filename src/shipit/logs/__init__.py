"""`shipit logs`: Cloud Logging entries of what shipit deployed.

``query`` builds the `entries.list` filter from typed sources, ``reader`` reads and follows,
``display`` formats an entry for a terminal, ``command`` ties them to a target and a console.
"""
