"""The fidelity suite: every recorded request of each MediaWiki version, replayed against the local wiki playing it."""
