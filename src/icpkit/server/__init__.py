"""The server: a JSON API over a workspace's store (see :mod:`.app`)."""
