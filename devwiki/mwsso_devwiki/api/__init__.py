"""api.php, the Action API: who is calling (``main``), shared pieces (``base``), action=query (``query``)."""
