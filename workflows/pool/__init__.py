"""The seat pool: how many seats of each tier there are, are taken, and sit idle."""
