"""What every chat platform's adapter shares: who is who, ids seen once, the standard replies,
the façade its listeners call, and the routing of the outbox between platforms.

Nothing here speaks a platform's SDK (the import contracts hold it): a platform adds a
renderer and a transport around these.
"""
